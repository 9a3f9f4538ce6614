//! (being written; see its issue).
