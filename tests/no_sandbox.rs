//! A `nemo` built without the emulator (`cargo test --no-default-features
//! --test no_sandbox`): `--sandbox` and `nemo sandbox` fail with one clear
//! usage error (exit 2) and touch nothing. With the default features this
//! file compiles to nothing.
#![cfg(not(feature = "sandbox"))]

use std::process::Command;

const EXPECTED: &str = "error: this build of nemo has no emulator (built without the `sandbox` feature)\nhint: use a build with default features for --sandbox and `nemo sandbox`\n";

fn nemo(config: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nemo"));
    cmd.env_clear()
        .env("NEMO_CONFIG_DIR", config)
        .env("NEMO_API_URL", "http://127.0.0.1:9")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn both_entry_points_say_there_is_no_emulator() {
    let config = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for args in [
        &["--sandbox", "credits"][..],
        &["sandbox"][..],
        &["sandbox", "--port", "0", "--fault", "no_credits"][..],
    ] {
        let out = nemo(config.path())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), EXPECTED, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Nothing was written for the sandbox.
    assert!(!config.path().join("sandbox").exists());
}
