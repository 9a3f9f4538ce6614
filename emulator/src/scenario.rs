//! Fault scenarios: a JSON file of fault switches (the names of `--fault`,
//! plus scenario steps such as `{"render_fail_on": [3]}` "the third render
//! fails" or `{"chat_drop_on": [2]}` "the second message's stream drops"),
//! read by `nemo sandbox --faults FILE` and `NEMO_SANDBOX_FAULTS=FILE`;
//! how a scenario is put into a state (its steps count from its start);
//! and the help text of every switch with nemo's reaction to it. Nothing
//! about serving.

use std::path::Path;

use serde_json::Value;

use crate::faults::{Faults, merge_faults};
use crate::model::EmuState;

/// Reads a faults file: a JSON object of switch names and values, checked
/// against the known switches. The error names the problem, not the file.
pub fn read_scenario(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "the file does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".to_string(),
        _ => {
            // Rust's "(os error N)" means nothing to the reader.
            let text = e.to_string();
            text.split(" (os error")
                .next()
                .unwrap_or(&text)
                .to_lowercase()
        }
    })?;
    let patch: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    // Every name and value must be one `--fault` would take.
    merge_faults(&Faults::default(), &patch)?;
    Ok(patch)
}

impl EmuState {
    /// Puts a scenario (a patch of fault switches) in force. The same
    /// scenario as last time changes nothing, so its counters and steps
    /// carry on across `--sandbox` processes; a different one (or none)
    /// first drops the old one's switches, and its steps count from one.
    pub fn use_scenario(&mut self, patch: Option<&Value>) -> Result<(), String> {
        if self.scenario.as_ref() == patch {
            return Ok(());
        }
        if self.scenario.is_some() {
            self.faults = Faults::default();
        } else {
            // Switches set before any scenario stay: failures already
            // placed in the render count keep pointing at the same renders
            // once the count starts again.
            let count = self.render_submits;
            let on = &mut self.faults.render.render_fail_on;
            *on = on
                .iter()
                .filter(|at| **at > count)
                .map(|at| at - count)
                .collect();
        }
        if let Some(patch) = patch {
            self.faults = merge_faults(&self.faults, patch)?;
        }
        self.scenario = patch.cloned();
        self.chat.answered = 0;
        self.render_submits = 0;
        Ok(())
    }
}

/// What each switch does, and what nemo does about it.
const DOCS: &[(&str, &str)] = &[
    (
        "rate_limit_next",
        "the next N requests answer HTTP 429 → nemo waits (Retry-After or 30 s) and retries once; still 429: exit 6",
    ),
    (
        "retry_after",
        "Retry-After seconds sent with those 429s → nemo waits that long",
    ),
    (
        "server_error_next",
        "the next N requests answer 502 with an HTML page → reads are retried (up to 3 tries), then exit 9",
    ),
    (
        "token_rate_limit",
        "one anonymous token per client id per 7 days → a second `auth login` is refused: exit 6",
    ),
    (
        "ip_token_limit",
        "anonymous tokens per IP per 7 days → beyond it: exit 6",
    ),
    (
        "session_not_found_as_404",
        "unknown sessions answer HTTP 404 {\"detail\"} instead of 1002 → treated as 1002",
    ),
    (
        "no_credits",
        "work that costs credits answers 2001 → exit 4 with the registration link (anonymous) or \"top up\"",
    ),
    (
        "reject_client_id",
        "token issue answers 400 to every client id → exit 3",
    ),
    ("chat_pace_ms", "milliseconds between the agent's events"),
    (
        "chat_tool_ms",
        "how long a generation runs (keep-alives meanwhile) → chat shows it is still working",
    ),
    ("chat_keepalive_ms", "milliseconds between keep-alives"),
    (
        "chat_drop_stream",
        "every reply drops after its first event, the work lands later → chat watches the state and reports what changed; never sends again",
    ),
    ("chat_late_ms", "how late a dropped reply's work lands"),
    (
        "chat_heartbeats_only",
        "replies send only keep-alives → chat gives up after --idle-timeout: exit 8, the message not sent again",
    ),
    (
        "chat_endless",
        "replies never end → chat stops at --timeout: exit 8",
    ),
    ("chat_crlf", "lines end with CRLF → read the same"),
    (
        "chat_token_expired_next",
        "the next N messages find the token expired (1001) → a free token is renewed and the message sent once more; a given token: exit 3",
    ),
    (
        "chat_session_lost_next",
        "the next N messages find the session gone (1002) → chat starts a new session, says so, sends once more; twice: exit 10",
    ),
    (
        "chat_generate_cost",
        "credits a generation costs → too few: 2001, exit 4",
    ),
    (
        "chat_edit_cost",
        "credits an edit costs → too few: 2001, exit 4",
    ),
    (
        "chat_headers_delay_ms",
        "the agent waits this long before answering at all",
    ),
    (
        "chat_rate_limit_next",
        "the next N messages answer HTTP 429 before any run → nothing charged, not sent: a re-run sends them",
    ),
    (
        "chat_state_rate_limit_after",
        "after each paid message, the next N state reads answer HTTP 429 → the paid job is finished on a re-run without prompting",
    ),
    (
        "chat_drop_on",
        "scenario: these messages (1 = the first since the scenario started) drop their stream → as chat_drop_stream",
    ),
    (
        "upload_max_bytes",
        "per-file limit; over it 4002 → exit 7, suggests compressing",
    ),
    (
        "upload_refused_types",
        "extensions refused with 4001 → exit 7, lists the accepted formats",
    ),
    (
        "upload_session_lost_next",
        "the next N uploads answer 1002 → a new session, the upload sent once more",
    ),
    (
        "render_ms",
        "how long a render takes (the first fifth pending, then processing with progress) → export shows the progress",
    ),
    ("render_seconds", "the same in seconds (sets render_ms)"),
    (
        "render_status_flat",
        "status answers in the flat documented shape → read the same",
    ),
    (
        "render_fail",
        "renders end failed with render_fail_error → export exit 8 with the error",
    ),
    ("render_fail_error", "the error text of failed renders"),
    (
        "render_fail_nth",
        "the Nth render accepted from now (1: the next) ends failed: the next submit adds its position to render_fail_on → export exit 8; batch fails that job only",
    ),
    (
        "render_fail_on",
        "scenario: these renders (1 = the first accepted since the scenario started, or since the sandbox began) end failed → export exit 8",
    ),
    (
        "render_plan_required",
        "submits answer HTTP 402 → exit 5, \"register or upgrade\"",
    ),
    (
        "render_submit_fail_next",
        "the next N submits answer success:false → retried once with a new id, then exit 8",
    ),
    (
        "render_submit_lost_next",
        "the next N submits are taken but their answer is lost (the connection breaks) → nemo polls the recorded id and goes on with that render: one render, never a second submit",
    ),
    (
        "render_submit_gateway_timeout_next",
        "the next N submits get HTTP 504 from a gateway and make no render → nemo polls the recorded id, finds no render, submits once more under a new id (recorded first)",
    ),
    (
        "render_submit_answer_ms",
        "taken submits are answered this many ms late → a nemo killed meanwhile left the render id recorded: `export resume` finishes it",
    ),
    (
        "render_no_output_url",
        "completed renders come without a URL → the fallback download on the API host",
    ),
    (
        "render_cdn_status",
        "the CDN answers this HTTP status → the fallback download on the API host",
    ),
    (
        "render_cdn_cut_after",
        "the next download is cut after N bytes → resumed with Range",
    ),
    (
        "render_cdn_no_ranges",
        "the CDN ignores Range → the download starts over",
    ),
    (
        "render_download_redirect",
        "the fallback download answers 302 to the CDN → followed, without the token",
    ),
    (
        "render_pad_bytes",
        "rendered mp4 and mov files grow by N bytes (still playable); webm and gif stay as they are",
    ),
];

/// The fault switches with their defaults and nemo's reaction, and the
/// chat markers, for `nemo sandbox --help`.
pub fn fault_help() -> String {
    let defaults = serde_json::to_value(Faults::default()).unwrap_or_default();
    let mut lines = wrap(
        "Faults: --fault NAME for true, or NAME=VALUE; --faults FILE.json (NEMO_SANDBOX_FAULTS=FILE.json \
         for --sandbox) with a JSON object of the same names, e.g. {\"render_fail_on\": [3], \
         \"chat_drop_on\": [2]}; also POST /_sandbox/faults. Each switch with its default, what it \
         does → what nemo does:",
        "",
    );
    let mut names: Vec<(String, String)> = defaults
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
        .unwrap_or_default();
    names.push(("render_seconds".into(), "2.5".into()));
    names.sort();
    for (name, default) in names {
        let doc = DOCS.iter().find(|(n, _)| *n == name).map_or("", |(_, d)| d);
        lines.push(format!("  {name}={default}"));
        lines.extend(wrap(doc, "      "));
    }
    lines.push(String::new());
    lines.extend(wrap(
        "Chat markers, for one message (never ordinary words): [[sandbox:crash]] [[sandbox:quota]] \
         [[sandbox:drop]] [[sandbox:silent]] [[sandbox:garbled]] [[sandbox:escape]] \
         [[sandbox:temporary]] [[sandbox:heartbeats]], e.g. nemo --sandbox chat \"hello [[sandbox:crash]]\"",
        "",
    ));
    lines.join("\n")
}

/// `text` in lines of at most 80 columns, each starting with `indent`.
fn wrap(text: &str, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.chars().count() + 1 + word.chars().count() > 80 {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_switch_is_documented() {
        let defaults = serde_json::to_value(Faults::default()).unwrap();
        for name in defaults.as_object().unwrap().keys() {
            assert!(DOCS.iter().any(|(n, _)| n == name), "{name} has no help");
        }
        let help = fault_help();
        assert!(
            help.contains("  render_fail_on=[]\n      scenario: these renders"),
            "{help}"
        );
        assert!(help.lines().all(|l| l.chars().count() <= 80), "{help}");
    }

    #[test]
    fn a_scenario_counts_from_its_start_and_is_dropped_when_gone() {
        let mut st = EmuState::default();
        st.chat.answered = 7;
        let patch = json!({"render_fail_on": [3], "rate_limit_next": 1});
        st.use_scenario(Some(&patch)).unwrap();
        assert_eq!(st.faults.render.render_fail_on, vec![3]);
        assert_eq!(st.chat.answered, 0);
        // The same one again keeps its progress.
        st.faults.rate_limit_next = 0;
        st.render_submits = 2;
        st.use_scenario(Some(&patch)).unwrap();
        assert_eq!((st.faults.rate_limit_next, st.render_submits), (0, 2));
        // None: back to the defaults.
        st.use_scenario(None).unwrap();
        assert!(st.faults.render.render_fail_on.is_empty());
        // Without a scenario before, a failure already placed (the 5th,
        // with 3 accepted) stays on its render when the count restarts.
        st.use_scenario(None).unwrap();
        st.faults.render.render_fail_on = vec![2, 5];
        st.render_submits = 3;
        st.use_scenario(Some(&json!({"rate_limit_next": 1})))
            .unwrap();
        assert_eq!(
            (st.render_submits, st.faults.render.render_fail_on.clone()),
            (0, vec![2])
        );
        assert!(st.use_scenario(Some(&json!({"nope": 1}))).is_err());
        assert_eq!(
            merge_faults(&Faults::default(), &json!({"render_seconds": 2}))
                .unwrap()
                .render
                .render_ms,
            2000
        );
    }
}
