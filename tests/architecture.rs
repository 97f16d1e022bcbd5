//! ARCHITECTURE.md's dependency line is true: every module of `src/` uses only the modules
//! listed before it there (so the graph has no circle), and no source file is longer than
//! ~700 lines of code (before its tests) unless ARCHITECTURE.md names it and why.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Strips comments and string literals' contents (roughly: enough for `crate::` paths).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each top-level module's files (a `name.rs`, or a `name/` folder).
fn modules() -> BTreeMap<String, Vec<std::path::PathBuf>> {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    let src = Path::new(ROOT).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        if path.is_dir() {
            for f in std::fs::read_dir(&path).unwrap() {
                out.entry(name.clone()).or_default().push(f.unwrap().path());
            }
        } else {
            out.entry(name).or_default().push(path);
        }
    }
    out
}

/// Names the crate root re-exports (`pub use module::{A, B};`, on one line or several), by the
/// module they come from. (`raw`'s `pub use crate::…` lines are not the root's.)
fn root_exports() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).unwrap();
    let mut out = BTreeMap::new();
    for statement in code_of(&lib).split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        if module == "crate" {
            continue;
        }
        for n in names.trim_matches(['{', '}', ' ', '\n']).split(',') {
            out.insert(n.trim().to_string(), module.to_string());
        }
    }
    out
}

/// The modules `src/lib.rs` declares `pub` (`pub mod name;`, or `pub mod name {`).
fn public_modules() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).unwrap();
    code_of(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|r| r.trim_end_matches([';', '{', ' ']).to_string())
        .collect()
}

fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let exports = root_exports();
    let mods = modules();
    let mut out = BTreeMap::new();
    for (name, files) in &mods {
        let mut deps = BTreeSet::new();
        for f in files {
            let code = code_of(&std::fs::read_to_string(f).unwrap());
            let mut rest = code.as_str();
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                // `crate::{a, b::c}` or `crate::a`.
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group[..group.find('}').unwrap_or(group.len())]
                        .split(',')
                        .map(|p| p.trim().split("::").next().unwrap_or(""))
                        .collect(),
                    None => vec![rest
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap()],
                };
                for n in names {
                    let module = exports.get(n).cloned().unwrap_or_else(|| n.to_string());
                    if mods.contains_key(&module) && &module != name {
                        deps.insert(module);
                    }
                }
            }
        }
        out.insert(name.clone(), deps);
    }
    out
}

fn architecture() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("ARCHITECTURE.md")).unwrap()
}

/// The modules named in backticks on ARCHITECTURE.md's line starting with `label`.
fn listed(label: &str) -> Vec<String> {
    let doc = architecture();
    let line = doc
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no line starting with {label:?}"));
    line.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn modules_use_only_the_modules_before_them() {
    let layers = listed("**Layers**");
    let deps = dependencies();
    for name in deps.keys() {
        assert!(
            layers.contains(name),
            "module {name} is not on ARCHITECTURE.md's Layers line"
        );
    }
    for m in &layers {
        assert!(
            deps.contains_key(m),
            "ARCHITECTURE.md lists {m}, which is not a module of src/"
        );
    }
    for (name, uses) in &deps {
        let at = layers.iter().position(|l| l == name).unwrap();
        for d in uses {
            let dat = layers.iter().position(|l| l == d).unwrap();
            assert!(
                dat < at,
                "{name} uses {d}, listed after it: a circle, or a stale Layers line"
            );
        }
    }
}

#[test]
fn long_files_are_named_and_justified() {
    let allowed = listed("**Longer files**");
    let main = vec![Path::new(ROOT).join("src/main.rs")];
    for files in modules().values().chain([&main]) {
        for f in files {
            let text = std::fs::read_to_string(f).unwrap();
            // Up to the first test module (a `#[cfg(test)]` on an import does not end the code).
            let lines: Vec<&str> = text.lines().collect();
            let code = (0..lines.len())
                .find(|&i| {
                    lines[i].trim() == "#[cfg(test)]"
                        && lines
                            .get(i + 1)
                            .is_some_and(|l| l.trim_start().starts_with("mod "))
                })
                .unwrap_or(lines.len());
            let rel = f.strip_prefix(ROOT).unwrap().to_string_lossy().into_owned();
            if code > 700 {
                assert!(
                    allowed.contains(&rel),
                    "{rel} has {code} lines of code before its tests"
                );
            }
        }
    }
}

#[test]
fn the_public_modules_are_the_listed_ones() {
    let listed: BTreeSet<String> = listed("**Public**").into_iter().collect();
    let declared = public_modules();
    assert_eq!(
        declared, listed,
        "src/lib.rs's `pub mod`s differ from ARCHITECTURE.md's Public line"
    );
    // Every name the root re-exports comes from a module of src/.
    let mods = modules();
    for (name, module) in root_exports() {
        assert!(
            mods.contains_key(&module),
            "{name} re-exported from {module}, not a module"
        );
    }
}
