//! docs/security.md links each mitigation to the test that shows it: every test it names
//! exists, in the file it names, so the threat model cannot point at a test that was
//! renamed or removed.

use std::path::Path;

#[test]
fn every_test_the_threat_model_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/security.md")).unwrap_or_default();
    assert!(doc.contains("# Threat model"), "docs/security.md is missing");
    let mut named = 0;
    let mut problems = Vec::new();
    // `path/to/file.rs::module::function` and `path/to/file.rs` in backticks.
    for quoted in doc.split('`').skip(1).step_by(2) {
        let (file, item) = quoted.split_once("::").map_or((quoted, None), |(f, i)| (f, Some(i)));
        if !file.ends_with(".rs") || file.contains(' ') {
            continue;
        }
        named += 1;
        let Ok(source) = std::fs::read_to_string(root.join(file)) else {
            problems.push(format!("{quoted}: no file {file}"));
            continue;
        };
        if let Some(item) = item {
            let function = item.rsplit("::").next().unwrap_or(item);
            if !source.contains(&format!("fn {function}(")) {
                problems.push(format!("{quoted}: no fn {function} in {file}"));
            }
        }
    }
    assert!(named > 40, "only {named} tests named: the format changed?");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
