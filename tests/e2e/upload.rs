//! `nemo upload` end to end (being written; see its issue).
