//! # Reproducible environments: Cargo as venv, pip and conda in one
//!
//! **Question:** How do you make a data-science environment reproducible, and what replaces venv,
//! conda and Poetry in Rust?
//!
//! **Answer:** Cargo does the jobs of venv, conda and Poetry. `Cargo.toml` states what the project
//! needs, `Cargo.lock` pins the exact version and checksum of every crate in the build, each
//! project builds its own dependencies into its own `target/`, so there is nothing to activate, and
//! `rust-toolchain.toml` pins the compiler. Bit-for-bit repeatability needs more than pinned
//! versions: the same platform, seeded generators and reductions that run in a fixed order.
//!
//! **Evidence:** The lesson reads the `Cargo.lock` this binary was built from and checks that the
//! crates which pass values between stages (ndarray, polars' arrow, serde) resolved to one version
//! each that the stack and the workspace share (tract's own ndarray 0.17, which only tract uses, is
//! named beside them), then runs a seeded computation twice and gets the same digest. Two of linfa
//! 0.8.1's estimators used elsewhere here, AdaBoost and t-SNE, give slightly different scores from
//! run to run with a fixed seed: a pinned lock alone does not make a result repeatable.
//!
//! **Run:** `cargo run --example reproducible_environments` (add `-- --quick` for a short run).

use std::collections::BTreeMap;

use anyhow::Context;
use harness::prelude::*;
use ndarray::Array2;
use ndarray_rand::RandomExt;
use rand_distr::StandardNormal;

/// Crates whose values cross from one stage to the next (a polars frame becomes an ndarray matrix,
/// which a linfa model consumes and plotters draws). Two versions of any of them would make the
/// types incompatible, so each must resolve exactly once.
const STACK: &[&str] = &[
    "ndarray",
    "polars",
    "polars-core",
    "polars-arrow",
    "linfa",
    "linfa-linear",
    "linfa-logistic",
    "linfa-trees",
    "linfa-clustering",
    "linfa-reduction",
    "linfa-nn",
    "linfa-bayes",
    "linfa-svm",
    "linfa-ensemble",
    "linfa-preprocessing",
    "linfa-elasticnet",
    "plotters",
    "faer",
    "num-traits",
    "chrono",
    "serde",
    "rayon",
    "clap",
    "criterion",
];

/// A seeded computation: draw a matrix, form its Gram matrix, and hash the bytes of the result.
fn seeded_digest(seed: u64, n: usize) -> String {
    // The generator a run with `--seed seed` gets for its first stream.
    let mut rng = harness::lesson::generator(seed, 0);
    let x = Array2::<f64>::random_using((n, 16), StandardNormal, &mut rng);
    let gram = x.t().dot(&x);
    let mut hasher = blake3::Hasher::new();
    for v in gram.iter() {
        hasher.update(&v.to_le_bytes());
    }
    hasher.finalize().to_hex()[..16].to_string()
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let n: usize = lesson.pick(200_000, 20_000);

    // %%
    // The workspace's lock file and manifest, read at run time from the workspace root (not
    // compiled in: a notebook kernel compiles this code somewhere else).
    let root = harness::workspace_root();
    let lock_text = harness::catalogue::read_text(&root.join("Cargo.lock"))?;
    let manifest_text = harness::catalogue::read_text(&root.join("Cargo.toml"))?;

    // %%
    // The lock is TOML: one [[package]] table per crate version in the build graph.
    let lock: toml::Table = toml::from_str(&lock_text).context("Cargo.lock does not parse")?;
    // (The tables are copied out of the parsed file as owned values, which a notebook keeps from
    // one step to the next; they are small.)
    let packages = lock
        .get("package")
        .and_then(|p| p.as_array())
        .context("Cargo.lock has no [[package]] tables")?
        .clone();
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in &packages {
        let name = package.get("name").and_then(|v| v.as_str()).unwrap_or("?");
        let version = package
            .get("version")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        versions
            .entry(name.to_string())
            .or_default()
            .push(version.to_string());
    }
    let checksums = packages
        .iter()
        .filter(|p| p.get("checksum").is_some())
        .count();
    println!(
        "Cargo.lock (lock format v{}): {} packages, {} distinct crates, {} with a registry checksum",
        lock.get("version")
            .and_then(|v| v.as_integer())
            .unwrap_or(0),
        packages.len(),
        versions.len(),
        checksums
    );

    // %%
    // What the manifest asks for, next to what the lock resolved.
    let manifest: toml::Table =
        toml::from_str(&manifest_text).context("Cargo.toml does not parse")?;
    let wanted = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .context("no [workspace.dependencies]")?
        .clone();
    // Who depends on what: each lock entry lists its dependencies as `name` (when one version
    // exists) or `name version`. Workspace packages are the entries without a `source`.
    let workspace: Vec<String> = packages
        .iter()
        .filter(|p| p.get("source").is_none())
        .filter_map(|p| p.get("name").and_then(|v| v.as_str()))
        .map(str::to_string)
        .collect();
    let mut dependents: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for package in &packages {
        let user = package.get("name").and_then(|v| v.as_str()).unwrap_or("?");
        for dependency in package
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str())
        {
            let mut words = dependency.split(' ');
            let name = words.next().unwrap_or("?");
            let version = match words.next() {
                Some(v) => v,
                None => versions
                    .get(name)
                    .and_then(|v| v.first())
                    .map_or("?", String::as_str),
            };
            dependents
                .entry((name.to_string(), version.to_string()))
                .or_default()
                .push(user.to_string());
        }
    }

    // %%
    // A second version of a stack crate is harmless only if no stack crate and no workspace
    // package uses it: then no value of that version ever meets ours. tract (the ONNX lesson's
    // runtime) is built on ndarray 0.17, and the lesson hands it plain slices.
    println!("\n{:<22} {:<14} resolved", "crate", "requirement");
    let mut once: usize = 0;
    let mut split = Vec::new();
    let mut private = Vec::new();
    let mut table = String::from("crate,requirement,resolved\n");
    for name in STACK {
        let resolved = versions.get(*name).cloned().unwrap_or_default();
        let requirement = match wanted.get(*name) {
            Some(toml::Value::String(v)) => v.clone(),
            Some(toml::Value::Table(t)) => t
                .get("version")
                .and_then(|v| v.as_str())
                .unwrap_or("path")
                .to_string(),
            _ => "(indirect)".to_string(),
        };
        println!("{name:<22} {requirement:<14} {}", resolved.join(", "));
        table.push_str(&format!("{name},{requirement},{}\n", resolved.join(" ")));
        let users_of = |version: &str| dependents.get(&(name.to_string(), version.to_string()));
        let shared: Vec<&str> = resolved
            .iter()
            .map(String::as_str)
            .filter(|version| {
                users_of(version).is_some_and(|users| {
                    users
                        .iter()
                        .any(|u| STACK.contains(&u.as_str()) || workspace.contains(u))
                })
            })
            .collect();
        if shared.len() == 1 {
            once += 1;
            for version in resolved.iter().filter(|v| **v != shared[0]) {
                let users = users_of(version).cloned().unwrap_or_default();
                private.push(format!("{name} {version} (only {})", users.join(", ")));
            }
        } else {
            split.push(format!(
                "{name} → {shared:?} used by the stack or the workspace"
            ));
        }
    }
    if !private.is_empty() {
        println!(
            "versions no stack crate or workspace package uses: {}",
            private.join("; ")
        );
    }

    // %%
    // The same table as a CSV file, the lesson's evidence to keep.
    let table_path = lesson.out_file("stack_versions.csv");
    std::fs::write(&table_path, table)?;
    lesson.record(ArtefactKind::Table, &table_path)?;

    // %%
    // `cargo tree -d` in miniature: crates that resolved to more than one version.
    let duplicated: Vec<(String, Vec<String>)> = versions
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(name, v)| (name.clone(), v.clone()))
        .collect();
    println!(
        "\ncrates with more than one version in the lock ({}):",
        duplicated.len()
    );
    for (name, v) in &duplicated {
        println!("  {name}: {}", v.join(", "));
    }
    // The lock lists the packages of every platform (hence the windows-* crates); `cargo tree -d`
    // shows only those built here. rand is the instructive case: linfa and this project share one
    // version, while newer ones live inside polars' and other crates' own code. They never hand
    // each other a generator, so the extra copies cost compile time but not correctness.
    let rand_versions = versions.get("rand").cloned().unwrap_or_default();
    println!(
        "rand resolves to {} versions ({}): only 0.8 crosses crate boundaries here (ours and linfa's)",
        rand_versions.len(),
        rand_versions.join(", ")
    );
    lesson.metric("lock_packages", packages.len() as f64);
    lesson.metric("duplicated_crates", duplicated.len() as f64);

    lesson.claim(
        "each crate of the data stack resolves to exactly one version",
        split.is_empty() && once == STACK.len(),
        if split.is_empty() {
            format!(
                "all {} stack crates resolve to one version that the stack and the workspace share, among {} locked packages{}",
                STACK.len(),
                packages.len(),
                if private.is_empty() { String::new() } else { format!("; apart from them: {}", private.join("; ")) }
            )
        } else {
            format!("split: {}", split.join("; "))
        },
        &[("stack_crates_resolved_once", once as f64)],
    );

    // %%
    // Reproducible results need more than pinned versions: every random draw must come from a
    // seeded generator. The same seed gives the same bytes; another seed does not.
    let first = seeded_digest(lesson.seed(), n);
    let second = seeded_digest(lesson.seed(), n);
    let other = seeded_digest(lesson.seed() + 1, n);
    println!(
        "\nblake3 of a seeded {n}×16 Gram matrix: seed {} → {first}, again → {second}, seed {} → {other}",
        lesson.seed(),
        lesson.seed() + 1
    );
    lesson.claim(
        "a seeded computation gives the same digest twice",
        first == second && first != other,
        format!("{first} = {second}; the next seed gives {other}"),
        &[],
    );

    lesson.finish()?;
    Ok(())
}
