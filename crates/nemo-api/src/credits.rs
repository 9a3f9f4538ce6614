//! `GET /api/credits/balance/simple`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{ApiClient, Retry};
use crate::error::Result;

/// The balance; `total = available + frozen`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub struct Balance {
    pub available: i64,
    #[serde(default)]
    pub frozen: i64,
    #[serde(default)]
    pub total: i64,
}

impl ApiClient {
    pub async fn credits(&self) -> Result<Balance> {
        self.authed(|| {
            self.call(Retry::Read, || {
                self.request(Method::GET, "/api/credits/balance/simple", true)
            })
        })
        .await
    }
}
