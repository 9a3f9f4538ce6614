//! `GET /api/credits/balance/simple`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{ApiClient, Retry};
use crate::error::Result;
use crate::number::lenient_i64;

/// The balance; `total = available + frozen`. Each is read leniently
/// ([`crate::number`]): `870.0` is 870, `870.5` an unreadable answer.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub struct Balance {
    #[serde(deserialize_with = "lenient_i64")]
    pub available: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub frozen: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total: i64,
}

impl ApiClient {
    pub async fn credits(&self) -> Result<Balance> {
        self.signed_in(|| {
            self.call(Retry::Read, || {
                self.request(Method::GET, "/api/credits/balance/simple", true)
            })
        })
        .await
    }
}
