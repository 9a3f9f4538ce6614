//! `nemo chat` end to end (being written; see its issue).
