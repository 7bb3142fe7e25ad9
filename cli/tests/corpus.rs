//! How many payloads of the conformance corpus `events example` can make from the schema alone
//! (their `examples` removed): each corpus schema becomes an event of a registry of its own.

mod common;

use std::collections::BTreeSet;

use common::{workspace, Registry};
use serde_json::{json, Value};

fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect()
}

#[test]
fn examples_are_made_for_nearly_every_corpus_schema() {
    let corpus = workspace().join("conformance/corpus");
    let mut files: Vec<(String, String)> = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&corpus).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let map = schema.as_object_mut().unwrap();
        map.remove("examples");
        map.insert(
            "x-event".into(),
            json!({ "name": format!("Corpus{}Event", pascal(&stem)), "type": "domain", "source": "Corpus" }),
        );
        files.push((format!("corpus{}Schema/1.0.json", pascal(&stem)), serde_json::to_string_pretty(&schema).unwrap()));
    }
    let total_files = files.len();
    // Schemas the registry itself refuses (and says why) are left out of the count.
    let mut refused = BTreeSet::new();
    let registry = Registry::new(&files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect::<Vec<_>>());
    let check = registry.run(&["list", "--no-types"], None);
    for (path, _) in &files {
        if check.stderr.contains(&format!("schemas/{path}")) {
            refused.insert(path.clone());
            std::fs::remove_dir_all(registry.path().join("schemas").join(path).parent().unwrap()).unwrap();
        }
    }
    assert!(refused.len() <= 1, "refused: {refused:?}\n{}", check.stderr);
    let run = registry.run(&["example", "--all", "--json"], None);
    let report = run.json();
    let made = report["made"].as_u64().unwrap();
    let total = report["total"].as_u64().unwrap();
    assert_eq!(total as usize, total_files - refused.len());
    let missing: Vec<&str> = report["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["example"].is_null())
        .map(|c| c["contract"].as_str().unwrap())
        .collect();
    println!("examples made for {made} of {total} corpus schemas; none for {missing:?}");
    assert!(made + 2 >= total, "examples made for {made} of {total}; none for {missing:?}");
}
