//! `nemo export` end to end (being written; see its issue).
