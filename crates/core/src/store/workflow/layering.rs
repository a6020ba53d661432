//! The table modules form a DAG: none reaches a workflow, and no two reach
//! each other (directly or around a loop). A new call from a table module to
//! one above it fails here, naming the loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn referenced(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for prefix in ["super::", "crate::store::"] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(list) => list
                    .split('}')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or(""))
                    .collect(),
                None => vec![rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")],
            };
            out.extend(
                names
                    .into_iter()
                    .filter(|n| modules.contains(*n))
                    .map(String::from),
            );
        }
    }
    out
}

/// Each table module's code without its unit tests (tests may build fixtures
/// through any module).
fn table_modules() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "rs") || name == "mod" {
            continue;
        }
        let mut code = std::fs::read_to_string(&path).unwrap();
        let sub = dir.join(name);
        if sub.is_dir() {
            for f in std::fs::read_dir(sub).unwrap() {
                code.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap_or_default());
            }
        }
        let code = match code.find("#[cfg(test)]\nmod tests") {
            Some(i) => code[..i].to_string(),
            None => code,
        };
        out.insert(name.to_string(), code);
    }
    out
}

#[test]
fn table_modules_form_a_dag_below_the_workflows() {
    let tables = table_modules();
    let mut names: BTreeSet<String> = tables.keys().cloned().collect();
    names.insert("workflow".into());
    let graph: BTreeMap<&str, BTreeSet<String>> = tables
        .iter()
        .map(|(n, code)| {
            let mut deps = referenced(code, &names);
            deps.remove(n);
            (n.as_str(), deps)
        })
        .collect();
    assert!(
        graph["ingest"].contains("workflow"),
        "the scan sees references"
    );
    for (n, deps) in &graph {
        if !["ingest", "ivr"].contains(n) {
            assert!(!deps.contains("workflow"), "{n} reaches up into a workflow");
        }
    }
    // Depth-first search for a loop.
    fn visit<'a>(
        n: &'a str,
        graph: &'a BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(i) = path.iter().position(|p| *p == n) {
            panic!(
                "the table modules loop: {}",
                [&path[i..], &[n]].concat().join(" → ")
            );
        }
        if !done.insert(n) {
            return;
        }
        path.push(n);
        for d in graph.get(n).into_iter().flatten() {
            visit(d, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done);
    }
}
