//! README.md followed top to bottom in one fresh folder (issue 20): the
//! quick start's lines in order, then its "keep working" advice (the
//! opening example's commands in that sandbox), each exit 0, and nothing
//! left in the checkout (outputs go where the README says, one folder).
#![cfg(unix)]

use crate::common::Env;

/// The shell lines that run nemo in README.md's quick start, in order.
fn quick_start_lines() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme.find("## Quick start").expect("a quick start");
    let end = readme[start + 3..]
        .find("\n## ")
        .map_or(readme.len(), |n| start + 3 + n);
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced && line.contains("cargo run") && !line.trim_start().starts_with('#') {
            lines.push(line.to_string());
        }
    }
    lines
}

/// The opening example's `$ nemo …` commands.
fn opening_commands() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let end = readme.find("## ").expect("sections");
    readme[..end]
        .lines()
        .filter_map(|l| l.strip_prefix("$ nemo "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_works_top_to_bottom_in_one_fresh_folder_and_leaves_nothing_in_the_checkout() {
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_nemo");
    let checkout = env.tmp.path().join("checkout");
    let tmp = env.tmp.path().join("tmp");
    std::fs::create_dir_all(&checkout).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let mut lines: Vec<String> = quick_start_lines()
        .iter()
        .map(|l| l.replace("cargo run -q --", &format!("'{bin}'")))
        .collect();
    assert!(lines.len() >= 3, "{lines:?}");
    // "To keep working in that sandbox": the opening example, there.
    let opening = opening_commands();
    assert!(opening.len() >= 3, "{opening:?}");
    let own = env.tmp.path().join("own");
    std::fs::create_dir_all(&own).unwrap();
    let mut steps: Vec<(String, &std::path::Path)> =
        lines.drain(..).map(|l| (l, checkout.as_path())).collect();
    // "in a folder of your own"
    steps.extend(
        opening
            .iter()
            .map(|c| (format!("'{bin}' --sandbox {c}"), own.as_path())),
    );
    for (line, dir) in &steps {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(dir)
            .env_remove("NEMO_API_URL")
            .env_remove("NEMO_WEB_URL")
            .env_remove("NEMO_TOKEN")
            .env_remove("NEMO_SESSION")
            .env("NEMO_CHAT_TIME_SCALE", "0.01")
            // The sandbox's quick pace: the same steps, not its real timing.
            .env("NEMO_SANDBOX_QUICK", "1")
            .env("HOME", env.home())
            .env("TMPDIR", &tmp)
            .env("NEMO_CONFIG_DIR", env.config_dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(own.join("panda.mp4").exists());
    assert!(
        tmp.join("nemo-demo/out/1-generate-a-panda-in-a-bamboo-forest.mp4")
            .exists()
    );
    let left: Vec<_> = std::fs::read_dir(&checkout)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in the checkout: {left:?}");
}
