//! One module per subcommand, each owning its `Args` and `run`.

pub mod auth;
pub mod batch;
pub mod chat;
pub mod completions;
pub mod credits;
pub mod doctor;
pub mod export;
pub mod generate;
pub mod help;
pub mod man;
pub mod mcp;
pub mod sandbox;
pub mod session;
pub mod state;
pub mod upload;

/// Commands are leaves: no command module names another command's module
/// (shared work lives in `crate::flow`, `crate::cli`, `crate::report`).
/// The front ends over the commands (`crate::cli`, `crate::mcp`, the
/// dispatcher in `lib.rs`) may; they are not under this folder.
#[cfg(test)]
mod leaves {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    /// The commands: this folder's modules.
    fn command_names(dir: &Path) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .expect("read src/commands")
            .map(|entry| entry.expect("a folder entry").path())
            .filter_map(|path| {
                let name = path.file_stem()?.to_str()?.to_string();
                let module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
                (module && name != "mod").then_some(name)
            })
            .collect()
    }

    /// Every `.rs` file under `dir`.
    fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read a source folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    /// The names that follow `prefix` (where it starts a path) in `source`:
    /// `prefix NAME` and each first segment of `prefix {A, B::c}`.
    fn names_after(source: &str, prefix: &str) -> Vec<String> {
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        let mut names = Vec::new();
        for (at, _) in source.match_indices(prefix) {
            if source[..at].chars().next_back().is_some_and(ident) {
                continue;
            }
            let rest = &source[at + prefix.len()..];
            let list = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or(""),
                None => rest.split(|c: char| !ident(c)).next().unwrap_or(""),
            };
            for item in list.split(',') {
                let first = item.trim().split(|c: char| !ident(c)).next().unwrap_or("");
                if !first.is_empty() {
                    names.push(first.to_string());
                }
            }
        }
        names
    }

    /// The commands other than `own` that a file `depth` modules below this
    /// one names: by `commands::NAME` or by a `super::` path that climbs
    /// back up here.
    fn others_named(
        source: &str,
        depth: usize,
        own: &str,
        commands: &BTreeSet<String>,
    ) -> Vec<String> {
        let climb = "super::".repeat(depth);
        let mut named = names_after(source, "commands::");
        named.extend(names_after(source, &climb));
        named.retain(|name| name != own && commands.contains(name));
        named.sort();
        named.dedup();
        named
    }

    #[test]
    fn no_command_names_another() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
        let commands = command_names(&dir);
        assert!(commands.contains("export") && commands.contains("chat"));
        let mut files = Vec::new();
        sources(&dir, &mut files);
        let mut offences = Vec::new();
        for file in files {
            let relative = file.strip_prefix(&dir).expect("under src/commands");
            let parts: Vec<&str> = relative.iter().filter_map(|p| p.to_str()).collect();
            if parts == ["mod.rs"] {
                continue;
            }
            let own = parts[0].trim_end_matches(".rs");
            // How many `super::` lead from this file back to `commands`.
            let depth = parts.len() - usize::from(parts.last() == Some(&"mod.rs"));
            let source = std::fs::read_to_string(&file).expect("read a command's source");
            for other in others_named(&source, depth, own, &commands) {
                offences.push(format!("{} names commands::{other}", relative.display()));
            }
        }
        assert!(
            offences.is_empty(),
            "a command reaches into another; move what they share below them (crate::flow, crate::cli):\n{}",
            offences.join("\n")
        );
    }

    #[test]
    fn the_check_sees_each_way_of_naming_a_command() {
        let commands: BTreeSet<String> = [
            "chat",
            "export",
            "help",
            "credits",
            "session",
            "completions",
        ]
        .map(String::from)
        .into();
        let named =
            |source: &str, depth: usize, own: &str| others_named(source, depth, own, &commands);
        assert_eq!(
            named(
                "use crate::commands::help::{ENVIRONMENT, EXIT_CODES};",
                1,
                "man"
            ),
            ["help"]
        );
        assert_eq!(
            named(
                "use crate::commands;\ncommands::export::run(&commands::credits::Args::default(), ctx)",
                2,
                "chat"
            ),
            ["credits", "export"]
        );
        assert_eq!(
            named("use crate::commands::{chat, export::Args};", 1, "man"),
            ["chat", "export"]
        );
        assert_eq!(
            named(
                "ArgValueCandidates::new(super::completions::session_ids)",
                1,
                "session"
            ),
            ["completions"]
        );
        assert_eq!(
            named("use super::super::help::TOPICS;", 2, "export"),
            ["help"]
        );
        // Its own module, a child module, other folders and look-alikes are fine.
        assert!(named("use crate::commands::chat::interactive;", 2, "chat").is_empty());
        assert!(
            named(
                "use super::cancel;\nuse super::render_id_or_latest;",
                2,
                "export"
            )
            .is_empty()
        );
        assert!(named("use crate::flow::export;\nsubcommands::help", 1, "chat").is_empty());
    }
}
