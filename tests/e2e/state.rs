//! `nemo state` end to end (being written; see its issue).
