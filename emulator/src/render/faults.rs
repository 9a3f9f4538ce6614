//! The render's fault switches (`render_fail`, `render_fail_on`,
//! `render_fail_nth`, the lost or late submit answers, the render's pace)
//! and the two helpers that apply them: which accepted submit fails, and an
//! answer cut before its body.

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::model::EmuState;

/// Fault switches and settings of renders (flattened into [`crate::Faults`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderFaults {
    /// How long a render takes, in milliseconds of wall-clock time (the
    /// first fifth pending, then processing).
    pub render_ms: u64,
    /// Status answers use the top-level shape
    /// `{"id","status","progress","output":{"url",…}}` instead of
    /// `{"success":true,"data":{…,"outputUrl"}}`.
    pub render_status_flat: bool,
    /// Renders submitted while this is on end `failed` with
    /// `render_fail_error`.
    pub render_fail: bool,
    /// The Nth render accepted from now on ends `failed` (1: the next
    /// one); 0 is off. Another name for a position of `render_fail_on`:
    /// the next submit turns it into one (see `take_failure`).
    pub render_fail_nth: u32,
    /// The `error` text of failed renders.
    pub render_fail_error: String,
    /// These renders (1 = the first accepted since the scenario started,
    /// or since the state began) end `failed` with `render_fail_error`.
    pub render_fail_on: Vec<u64>,
    /// Submits answer HTTP 402 (the free plan may not export).
    pub render_plan_required: bool,
    /// The next N submits answer `{"success":false,"error":…}`.
    pub render_submit_fail_next: u32,
    /// The next N submits are taken (the render exists and runs) but their
    /// answer is lost: the connection breaks before the body, as when a
    /// proxy or the network drops it after the server acted.
    pub render_submit_lost_next: u32,
    /// The next N submits never reach the render service: a gateway in
    /// front answers HTTP 504 (no render is made).
    pub render_submit_gateway_timeout_next: u32,
    /// Taken submits are answered this many milliseconds late (the render
    /// exists meanwhile): room for a client to die between the two.
    pub render_submit_answer_ms: u64,
    /// Completed renders come without an output URL.
    pub render_no_output_url: bool,
    /// The CDN answers this HTTP status instead of the file.
    pub render_cdn_status: Option<u16>,
    /// The next CDN download is cut after this many bytes (once).
    pub render_cdn_cut_after: Option<u64>,
    /// The CDN ignores `Range` (whole file, HTTP 200, no `Accept-Ranges`).
    pub render_cdn_no_ranges: bool,
    /// The fallback download answers HTTP 302 to the CDN instead of the file.
    pub render_download_redirect: bool,
    /// Rendered MP4 and QuickTime files grow by a trailing `free` box of
    /// this many bytes (at least 8, at most 4 GiB − 1), still playable: for
    /// measuring that downloads stream (`bench/download-rss.sh`). WebM and
    /// GIF renders are served as they are.
    pub render_pad_bytes: u64,
}

impl Default for RenderFaults {
    fn default() -> Self {
        RenderFaults {
            render_ms: 2500,
            render_status_flat: false,
            render_fail: false,
            render_fail_nth: 0,
            render_fail_error: "Lambda render failed: the composition could not be encoded".into(),
            render_fail_on: Vec::new(),
            render_plan_required: false,
            render_submit_fail_next: 0,
            render_submit_lost_next: 0,
            render_submit_gateway_timeout_next: 0,
            render_submit_answer_ms: 0,
            render_no_output_url: false,
            render_cdn_status: None,
            render_cdn_cut_after: None,
            render_cdn_no_ranges: false,
            render_download_redirect: false,
            render_pad_bytes: 0,
        }
    }
}

/// An answer that never arrives whole: the headers go out, then the
/// connection breaks before the body.
pub(super) fn lost_answer() -> Response {
    let broken = futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut by the render_submit_lost_next fault",
        ))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(broken),
    )
        .into_response()
}

/// Counts a submit being accepted and tells whether it is to fail: the one
/// place that reads the failure switches. `render_fail_on` lists positions
/// of the submit count (1 = the first accepted since the scenario started,
/// or since the state began); `render_fail_nth` N is another way to name
/// one ("the Nth from now"), turned into a position of that list at the
/// next submit, so both names feed the same list and read back there.
pub(super) fn take_failure(st: &mut EmuState) -> bool {
    st.render_submits += 1;
    let count = st.render_submits;
    let faults = &mut st.faults.render;
    if faults.render_fail_nth > 0 {
        let at = count + u64::from(faults.render_fail_nth) - 1;
        faults.render_fail_on.push(at);
        faults.render_fail_nth = 0;
    }
    faults.render_fail || faults.render_fail_on.contains(&count)
}
