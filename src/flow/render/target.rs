//! Where `nemo export` puts the file: `-o` read as a file or a folder that
//! gets `<render id>.<format>`, and the check that the path may be written
//! (an existing file is kept unless `--force`), made before anything is
//! submitted.
//!
//! It decides and checks paths; the only file it writes is the probe that
//! proves the folder takes a write, removed at once (the download writes
//! the file, see `crate::flow::download`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the file goes: a named file, or a folder that gets
/// `<render id>.<format>`.
pub(crate) enum Target {
    File(PathBuf),
    Folder(PathBuf),
}

impl Target {
    /// Reads `-o`; nothing given is the current folder.
    pub(crate) fn from_option(output: Option<&Path>) -> Result<Target> {
        let Some(output) = output else {
            return Ok(Target::Folder(PathBuf::new()));
        };
        if output.as_os_str().is_empty() {
            return Err(Error::usage("-o needs a path"));
        }
        if output.is_dir() {
            return Ok(Target::Folder(output.to_path_buf()));
        }
        let text = output.to_string_lossy();
        let trimmed = text.trim_end_matches(['/', std::path::MAIN_SEPARATOR]);
        if trimmed != text && !trimmed.is_empty() && Path::new(trimmed).is_file() {
            return Err(Error::bad_input(
                format!("{trimmed} is not a folder"),
                Some("give a file name with -o, or an existing folder".into()),
            ));
        }
        if text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
            return Err(Error::bad_input(
                format!("the folder {} does not exist", output.display()),
                Some("create it first, or give a file name with -o".into()),
            ));
        }
        Ok(Target::File(output.to_path_buf()))
    }

    pub(crate) fn path_for(&self, id: &str, format: &str) -> PathBuf {
        match self {
            Target::File(path) => path.clone(),
            Target::Folder(dir) => dir.join(file_name(id, format)),
        }
    }
}

/// `<id>.<format>` with anything but letters, digits, `-` and `_` in the id
/// replaced, so an id can never name a path elsewhere.
pub(crate) fn file_name(id: &str, format: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}.{format}")
}

/// The output may be written: its folder exists, and nothing is there
/// unless `force` (exit 7, before anything is submitted).
pub(crate) fn check_output(path: &Path, force: bool) -> Result<()> {
    let folder = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match std::fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::bad_input(
                format!("{} is not a folder", folder.display()),
                Some("choose another path with -o".into()),
            ));
        }
        Err(_) => {
            // The nearest part of the path that exists but is a file is
            // what is wrong, not a missing folder.
            if let Some(file) = folder.ancestors().skip(1).find(|a| a.is_file()) {
                return Err(Error::bad_input(
                    format!("{} is not a folder", file.display()),
                    Some("choose another path with -o".into()),
                ));
            }
            return Err(Error::bad_input(
                format!("the folder {} does not exist", folder.display()),
                Some("create it first, or choose another path with -o".into()),
            ));
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::bad_input(
            format!("{} is a folder", path.display()),
            Some("give a file name with -o".into()),
        )),
        Ok(_) if !force => Err(Error::bad_input(
            format!("{} already exists", path.display()),
            Some("add --force to overwrite it, or choose another path with -o".into()),
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("cannot check {}", path.display()), e)),
    }
}

/// Proves that the folder of `path` takes a write, with a real one: a
/// probe file with content, synced, then removed (exit 7 naming the
/// folder). Permission bits alone do not tell a full disk, a read-only
/// mount or an ACL.
pub(crate) fn probe_folder(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => probe_dir(dir),
        _ => probe_dir(Path::new(".")),
    }
}

/// [`probe_folder`] for the folder itself.
pub(crate) fn probe_dir(folder: &Path) -> Result<()> {
    crate::config::write_probe(folder, ".nemo-probe.", ".tmp").map_err(|e| {
        Error::bad_input(
            format!(
                "the folder {} cannot be written: {}",
                folder.display(),
                crate::error::io_reason(&e)
            ),
            Some("choose another path with -o".into()),
        )
    })
}

/// A warning when `path`'s extension names another format than the one
/// rendered (`--format mov -o x.mp4` writes QuickTime under `.mp4`): the
/// file is written as asked, and the warning says so.
pub(crate) fn extension_disagrees(path: &Path, format: &str) -> Option<String> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    let fits: &[&str] = match format {
        "mp4" => &["mp4", "m4v"],
        "mov" => &["mov", "qt"],
        other => &[other][..],
    };
    if fits.contains(&ext.as_str()) {
        return None;
    }
    Some(format!(
        "{} ends in .{ext} but the render is {format} (--format {format}): the file will hold {format}, whatever its name",
        path.display()
    ))
}

pub(crate) fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    #[test]
    fn targets() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Target::from_option(Some(dir.path())).unwrap();
        assert_eq!(
            folder.path_for("render_1", "mp4"),
            dir.path().join("render_1.mp4")
        );
        let default = Target::from_option(None).unwrap();
        assert_eq!(
            default.path_for("render_1", "mp4"),
            PathBuf::from("render_1.mp4")
        );
        assert_eq!(
            default.path_for("../../etc/passwd", "mp4"),
            PathBuf::from("______etc_passwd.mp4")
        );
        let file = Target::from_option(Some(Path::new("x/a.mp4"))).unwrap();
        assert_eq!(file.path_for("render_1", "mp4"), PathBuf::from("x/a.mp4"));
        assert!(
            Target::from_option(Some(&dir.path().join("missing/")))
                .is_err_and(|e| e.is(Kind::BadInput))
        );
    }

    #[test]
    fn the_probe_writes_for_real_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        probe_folder(&dir.path().join("out.mp4")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let missing = dir.path().join("missing/out.mp4");
        assert!(probe_folder(&missing).is_err_and(|e| e.is(Kind::BadInput)));
    }

    #[test]
    fn extensions_that_disagree_with_the_format() {
        assert!(extension_disagrees(Path::new("x.mp4"), "mov").is_some());
        assert!(extension_disagrees(Path::new("x.MOV"), "mov").is_none());
        assert!(extension_disagrees(Path::new("x.m4v"), "mp4").is_none());
        assert!(extension_disagrees(Path::new("x.gif"), "webm").is_some());
        assert!(extension_disagrees(Path::new("no-extension"), "gif").is_none());
    }

    #[test]
    fn a_path_under_a_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("logo.png");
        std::fs::write(&file, b"png").unwrap();
        let err = check_output(&file.join("x.mp4"), false).unwrap_err();
        assert!(
            err.to_string().contains("logo.png is not a folder"),
            "{err}"
        );
        let err = check_output(&file.join("deeper/x.mp4"), false).unwrap_err();
        assert!(
            err.to_string().contains("logo.png is not a folder"),
            "{err}"
        );
    }
}
