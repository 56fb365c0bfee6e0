//! `ballista-node` refuses bad arguments with one line on stderr and exit code 2, before it binds
//! anything. (Being an integration test, this also makes `cargo test` build the binary with the
//! lessons, so that `distributed_dataframes` does not link it the first time it runs.)

use std::process::Command;

fn node(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ballista-node"))
        .args(args)
        .output()
        .expect("ballista-node starts");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_arguments_are_one_line_and_exit_code_2() {
    for (args, expected) in [
        (&[][..], "usage: ballista-node scheduler <port>"),
        (&["worker"][..], "usage: ballista-node scheduler <port>"),
        (
            &["scheduler", "eighty"][..],
            "not a port number: \"eighty\"",
        ),
        (
            &["executor", "1", "70000", "/tmp"][..],
            "not a port number: \"70000\"",
        ),
    ] {
        let (code, stderr) = node(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("ballista-node: "), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
