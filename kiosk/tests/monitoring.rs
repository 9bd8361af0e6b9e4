#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The monitoring files IT loads (`deploy/monitoring/`), checked with Prometheus's own
//! `promtool` (Debian's `prometheus` package):
//!
//! - `kiosk-alerts.yml` passes `promtool check rules`, and its unit tests
//!   (`kiosk-alerts.test.yml`: each alert firing, and not firing where it must not) pass
//!   `promtool test rules`;
//! - the alert rules and the Grafana dashboard (`grafana-kiosk.json`: its panels'
//!   expressions and its variables' queries) name only metrics the kiosk exposes
//!   (`kiosk::metrics::NAMES`);
//! - every panel has an expression in each target, and each one, with Grafana's
//!   variables replaced by sample values, is valid PromQL: it becomes a recording rule in
//!   a temporary rules file (JSON, which is YAML) that `promtool check rules` must accept.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use kiosk::metrics::NAMES;
use serde_json::{Value, json};

/// Grafana's variables in the dashboard's expressions, and a sample value for each.
const VARIABLES: [(&str, &str); 7] = [
    ("${library}", "central"),
    ("$library", "central"),
    ("${instance}", "kiosk-1:9464"),
    ("$instance", "kiosk-1:9464"),
    ("$__rate_interval", "5m"),
    ("$__range", "1h"),
    ("$__interval", "1m"),
];

fn monitoring() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/monitoring")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(monitoring().join(name))
        .unwrap_or_else(|e| panic!("deploy/monitoring/{name}: {e}"))
}

/// Runs promtool in deploy/monitoring/ and fails the test with its output unless it succeeds.
fn promtool(args: &[&str]) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(monitoring())
        .output()
        .unwrap_or_else(|e| panic!("cannot run promtool: {e} (Debian's prometheus package installs it)"));
    assert!(
        out.status.success(),
        "promtool {} failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every `kiosk_…` token in `text` that is not the tail of a longer name.
fn metric_names(text: &str) -> Vec<&str> {
    let in_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = Vec::new();
    for (start, _) in text.match_indices("kiosk_") {
        if text[..start].chars().next_back().is_some_and(in_name) {
            continue;
        }
        let end = text[start..].find(|c: char| !in_name(c)).map_or(text.len(), |n| start + n);
        names.push(&text[start..end]);
    }
    names
}

/// The names in `texts` that the kiosk does not expose, and how many names there were.
fn unknown_names<'a>(texts: impl IntoIterator<Item = &'a str>) -> (Vec<&'a str>, usize) {
    let names: Vec<&str> = texts.into_iter().flat_map(metric_names).collect();
    let unknown = names.iter().copied().filter(|n| !NAMES.contains(n)).collect();
    (unknown, names.len())
}

fn dashboard() -> Value {
    serde_json::from_str(&read("grafana-kiosk.json")).unwrap_or_else(|e| panic!("grafana-kiosk.json: {e}"))
}

/// The expression of every target of every panel, rows' panels included; a target
/// without one fails the test.
fn expressions(panels: &Value, out: &mut Vec<String>) {
    for panel in panels.as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap_or_default();
            assert!(!expr.trim().is_empty(), "panel {}: a target without an expression", panel["title"]);
            out.push(expr.to_owned());
        }
        expressions(&panel["panels"], out);
    }
}

fn dashboard_expressions() -> Vec<String> {
    let mut exprs = Vec::new();
    expressions(&dashboard()["panels"], &mut exprs);
    assert!(!exprs.is_empty(), "grafana-kiosk.json has no expression");
    exprs
}

/// `expr` with Grafana's variables replaced by their sample values.
fn substituted(expr: &str) -> String {
    let done = VARIABLES.iter().fold(expr.to_owned(), |e, (var, value)| e.replace(var, value));
    assert!(!done.contains('$'), "a Grafana variable this test does not know in: {expr}");
    done
}

/// A file removed when dropped, so also when the test fails.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A new file in the temporary directory with `contents`, under a name no other run uses.
fn temp_file(contents: &str) -> TempFile {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let path = std::env::temp_dir().join(format!("kiosk-dashboard-rules-{}-{nanos}.yml", std::process::id()));
    let mut file = OpenOptions::new().write(true).create_new(true).open(&path).unwrap();
    let temp = TempFile(path);
    file.write_all(contents.as_bytes()).unwrap();
    temp
}

#[test]
fn the_alert_rules_pass_promtool_check() {
    promtool(&["check", "rules", "kiosk-alerts.yml"]);
}

#[test]
fn the_alert_rules_pass_their_unit_tests() {
    promtool(&["test", "rules", "kiosk-alerts.test.yml"]);
}

#[test]
fn the_alert_rules_use_only_the_kiosks_metrics() {
    let rules = read("kiosk-alerts.yml");
    let (unknown, found) = unknown_names([rules.as_str()]);
    assert!(found > 0, "no kiosk_ metric in kiosk-alerts.yml");
    assert!(unknown.is_empty(), "kiosk-alerts.yml names metrics the kiosk does not expose: {unknown:?}");
}

#[test]
fn the_dashboard_uses_only_the_kiosks_metrics() {
    let exprs = dashboard_expressions();
    let dashboard = dashboard();
    let variables = dashboard["templating"]["list"].as_array().cloned().unwrap_or_default();
    let queries: Vec<&str> = variables
        .iter()
        .flat_map(|v| [&v["definition"], &v["query"], &v["query"]["query"]])
        .filter_map(Value::as_str)
        .collect();
    assert!(queries.iter().any(|q| q.contains("kiosk_build_info")), "no variable reads kiosk_build_info");
    let (unknown, found) = unknown_names(exprs.iter().map(String::as_str).chain(queries));
    assert!(found > 0, "no kiosk_ metric in grafana-kiosk.json");
    assert!(unknown.is_empty(), "grafana-kiosk.json names metrics the kiosk does not expose: {unknown:?}");
}

#[test]
fn every_dashboard_expression_is_valid_promql() {
    let rules: Vec<Value> = dashboard_expressions()
        .iter()
        .enumerate()
        .map(|(i, expr)| json!({ "record": format!("dashboard:expr_{i}"), "expr": substituted(expr) }))
        .collect();
    let file = json!({ "groups": [{ "name": "dashboard", "rules": rules }] });
    let temp = temp_file(&serde_json::to_string_pretty(&file).unwrap());
    promtool(&["check", "rules", temp.0.to_str().unwrap()]);
}
