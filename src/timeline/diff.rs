//! The diff of two drafts, as `nemo chat` reports a silent edit: segments
//! added, removed, retimed or renamed (`+ Title: "Paradise Found" (0-3s)`).

use std::fmt;

use serde::Serialize;

use super::{Segment, Timeline, Track, segment_text};

/// One difference between two drafts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub op: ChangeOp,
    pub track: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Segment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Segment>,
    /// The human line, as printed.
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    Added,
    Removed,
    Changed,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

fn added(track: &Track, seg: &Segment) -> Change {
    Change {
        op: ChangeOp::Added,
        track: track.label.clone(),
        before: None,
        after: Some(seg.clone()),
        summary: format!("+ {}: {}", track.label, segment_text(track.kind, seg)),
    }
}

fn removed(track: &Track, seg: &Segment) -> Change {
    Change {
        op: ChangeOp::Removed,
        track: track.label.clone(),
        before: Some(seg.clone()),
        after: None,
        summary: format!("- {}: {}", track.label, segment_text(track.kind, seg)),
    }
}

/// What changed from `before` to `after`: segments added, removed, retimed
/// or renamed. Tracks are matched by position and kind; segments by id when
/// both have one, else by position.
pub fn diff(before: &Timeline, after: &Timeline) -> Vec<Change> {
    let mut changes = Vec::new();
    let count = before.tracks.len().max(after.tracks.len());
    for i in 0..count {
        match (before.tracks.get(i), after.tracks.get(i)) {
            (Some(old), Some(new)) if old.kind == new.kind => diff_track(old, new, &mut changes),
            (old, new) => {
                if let Some(old) = old {
                    changes.extend(old.segments.iter().map(|s| removed(old, s)));
                }
                if let Some(new) = new {
                    changes.extend(new.segments.iter().map(|s| added(new, s)));
                }
            }
        }
    }
    changes
}

fn diff_track(old: &Track, new: &Track, changes: &mut Vec<Change>) {
    let by_id = old
        .segments
        .iter()
        .chain(&new.segments)
        .all(|s| s.id.is_some());
    let mut matched_new = vec![false; new.segments.len()];
    for (i, seg) in old.segments.iter().enumerate() {
        let partner = if by_id {
            new.segments.iter().position(|n| n.id == seg.id)
        } else {
            (i < new.segments.len()).then_some(i)
        };
        match partner {
            Some(j) => {
                matched_new[j] = true;
                let next = &new.segments[j];
                if next != seg {
                    changes.push(Change {
                        op: ChangeOp::Changed,
                        track: new.label.clone(),
                        before: Some(seg.clone()),
                        after: Some(next.clone()),
                        summary: format!(
                            "~ {}: {} → {}",
                            new.label,
                            segment_text(old.kind, seg),
                            segment_text(new.kind, next)
                        ),
                    });
                }
            }
            None => changes.push(removed(old, seg)),
        }
    }
    for (j, seg) in new.segments.iter().enumerate() {
        if !matched_new[j] {
            changes.push(added(new, seg));
        }
    }
}
