//! # Packaging the service in a container
//!
//! **Question:** How do you package a model service in a container?
//!
//! **Answer:** Build in one stage with the whole toolchain and copy only the binary into a slim
//! runtime stage; a Rust service is one executable that needs the C runtime (glibc and libgcc_s)
//! and nothing else — no interpreter, no virtual environment — so the image is small and its attack
//! surface too. Read what the binary needs from its ELF headers (shared libraries, the newest glibc
//! symbol version) and check the base image provides it; run as an unprivileged user; give the
//! image a health check; and mount models as versioned data rather than baking them into the image.
//!
//! **Evidence:** The model-server binary's ELF headers name four shared libraries — libc, libm,
//! libgcc_s and the loader — and its newest symbol version is GLIBC_2.34, within bookworm-slim's
//! 2.36 (the Dockerfile's runtime base). The binary's own --check-health, which the Dockerfile's
//! HEALTHCHECK runs, exits 0 against a running service and non-zero once it is stopped. A root
//! directory holding only seven files — the binary, those libraries and a model — entered with
//! chroot as user 10001 serves /health and /predict. No container runtime's daemon is reachable
//! here, so the image itself is not built.
//!
//! **Run:** `cargo run --example containerization` (add `-- --quick` for a short run, `-- --serve`
//! to keep its server running for you).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use harness::prelude::*;
use harness::serve::{http_get, http_post};
use lessons_deploy::{ModelServer, PenguinModel, request_body};
use object::read::elf::{ElfFile64, ProgramHeader};

/// The runtime image's C library: Debian 12 (bookworm) ships glibc 2.36.
const RUNTIME_GLIBC: (u32, u32) = (2, 36);
/// The C runtime every glibc system (and the slim image) has: glibc's libraries, its loader,
/// and GCC's unwinder library.
const C_RUNTIME: [&str; 8] = [
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
];
/// Where the dynamic loader looks on this system, in order.
const LIBRARY_PATH: [&str; 4] = [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib",
];

/// What an ELF executable asks of the system that runs it.
struct RuntimeNeeds {
    interpreter: Option<String>,
    libraries: Vec<String>,
    /// Every symbol version required, as (library, version), e.g. ("libc.so.6", "GLIBC_2.34").
    versions: Vec<(String, String)>,
}

/// Reads the program interpreter, the `DT_NEEDED` libraries and the required symbol versions.
fn runtime_needs(binary: &Path) -> Result<RuntimeNeeds> {
    let data = std::fs::read(binary)?;
    let file = ElfFile64::<object::Endianness>::parse(&*data)
        .with_context(|| format!("{} is not a 64-bit ELF file", binary.display()))?;
    let endian = file.endian();
    let interpreter = file
        .elf_program_headers()
        .iter()
        .find_map(|header| header.interpreter(endian, &*data).ok().flatten())
        .map(|name| String::from_utf8_lossy(name).into_owned());
    let sections = file.elf_section_table();
    let dynamic = sections.dynamic_table(endian, &*data)?;
    let libraries = dynamic
        .iter()
        .filter(|entry| entry.tag == object::elf::DT_NEEDED)
        .map(|entry| Ok(String::from_utf8_lossy(dynamic.string(entry)?).into_owned()))
        .collect::<Result<Vec<_>>>()?;
    let mut versions = Vec::new();
    if let Some((mut needs, link)) = sections.gnu_verneed(endian, &*data)? {
        let strings = sections.strings(endian, &*data, link)?;
        while let Some((need, mut auxiliaries)) = needs.next()? {
            let library = String::from_utf8_lossy(need.file(endian, strings)?).into_owned();
            while let Some(aux) = auxiliaries.next()? {
                let version = String::from_utf8_lossy(aux.name(endian, strings)?).into_owned();
                versions.push((library.clone(), version));
            }
        }
    }
    Ok(RuntimeNeeds {
        interpreter,
        libraries,
        versions,
    })
}

/// `GLIBC_2.34` → (2, 34).
fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let (major, minor) = name.strip_prefix("GLIBC_")?.split_once('.')?;
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The file the loader would find for `library`.
fn locate(library: &str) -> Option<PathBuf> {
    LIBRARY_PATH
        .iter()
        .map(|dir| Path::new(dir).join(library))
        .find(|path| path.is_file())
}

/// The Dockerfile's stages (their base images), its user and its health check.
fn dockerfile_facts(text: &str) -> (Vec<String>, Option<String>, Option<String>) {
    let mut stages = Vec::new();
    let (mut user, mut health) = (None, None);
    let joined = text.replace("\\\n", " ");
    for line in joined.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("FROM") => stages.extend(words.next().map(str::to_string)),
            Some("USER") => user = words.next().map(str::to_string),
            Some("HEALTHCHECK") => health = Some(words.collect::<Vec<_>>().join(" ")),
            _ => {}
        }
    }
    (stages, user, health)
}

/// The number of files under `dir`.
fn walk(dir: &Path) -> Result<usize> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            count += walk(&entry.path())?;
        } else {
            count += 1;
        }
    }
    Ok(count)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Step 1: the project's Dockerfile. A build stage with the whole toolchain; a runtime stage
    // on a slim base holding the binary alone, run as an unprivileged user, with a health check
    // the binary answers itself (the slim image has no curl).
    let dockerfile = harness::workspace_root().join("crates/model-server/Dockerfile");
    let text = std::fs::read_to_string(&dockerfile)?;
    let (stages, user, health) = dockerfile_facts(&text);
    println!(
        "{}: stages {}; runs as user {}; health check: {}",
        dockerfile.display(),
        stages.join(" → "),
        user.as_deref().unwrap_or("root (no USER)"),
        health.as_deref().unwrap_or("none")
    );

    // Step 2: what the binary needs at run time, read from its ELF headers: the program
    // interpreter, the shared libraries (DT_NEEDED) and the newest glibc symbol version.
    let binary = ModelServer::binary()?;
    let needs = runtime_needs(&binary)?;
    let newest_glibc = needs
        .versions
        .iter()
        .filter_map(|(_, v)| glibc_version(v))
        .max()
        .unwrap_or((0, 0));
    let foreign: Vec<&String> = needs
        .libraries
        .iter()
        .filter(|l| !C_RUNTIME.contains(&l.as_str()))
        .collect();
    let binary_size = std::fs::metadata(&binary)?.len();
    println!(
        "{} ({:.1} MB): interpreter {}, libraries [{}], newest symbol version GLIBC_{}.{}",
        binary.display(),
        binary_size as f64 / 1e6,
        needs.interpreter.as_deref().unwrap_or("none (static)"),
        needs.libraries.join(", "),
        newest_glibc.0,
        newest_glibc.1
    );
    lesson.metric("binary_megabytes", binary_size as f64 / 1e6);
    lesson.metric("shared_libraries", needs.libraries.len() as f64);
    let runtime_stage = stages.last().map_or("", String::as_str);
    lesson.claim(
        "the binary needs only the C runtime, which the slim image has",
        foreign.is_empty() && newest_glibc <= RUNTIME_GLIBC && runtime_stage == "debian:bookworm-slim",
        format!(
            "{} libraries, all glibc or libgcc_s; newest symbol GLIBC_{}.{} ≤ {}.{} of {runtime_stage}",
            needs.libraries.len(),
            newest_glibc.0,
            newest_glibc.1,
            RUNTIME_GLIBC.0,
            RUNTIME_GLIBC.1
        ),
        &[("foreign_libraries", foreign.len() as f64)],
    );

    // Step 3: the health check works as the container would use it: the binary, asked for
    // --check-health, exits 0 against a running service and non-zero when nothing answers.
    let penguins = PenguinModel::fit("1", lesson.seed(), 1.0)?;
    penguins.save(&lesson.out_file("models/1/model.wbm"))?;
    let models = lesson.out_file("models").to_string_lossy().into_owned();
    let server = ModelServer::start_with(Command::new(&binary).args(["--model-dir", &models]))?;
    let address = server.url().trim_start_matches("http://").to_string();
    lesson.record_endpoint(server.url())?;
    let check = |address: &str| -> Result<bool> {
        Ok(Command::new(&binary)
            .args(["--check-health", address])
            .stderr(Stdio::null())
            .status()?
            .success())
    };
    let healthy = check(&address)?;
    drop(server);
    let after_stop = check(&address)?;
    println!("  --check-health {address}: {healthy} while serving, {after_stop} once stopped");
    let user_is_unprivileged = user.as_deref().is_some_and(|u| u != "0" && u != "root");
    lesson.claim(
        "the container's health check tells a live service from a dead one",
        healthy && !after_stop && user_is_unprivileged && health.as_deref().is_some_and(|h| h.contains("--check-health")),
        format!(
            "the Dockerfile's check runs the binary's --check-health: exit 0 while serving, non-zero once stopped; USER {}",
            user.as_deref().unwrap_or("none")
        ),
        &[],
    );

    // Step 4: the image's content, without a container runtime: a root directory holding only
    // the binary, the libraries found above and the model — no shell, no /etc — entered with
    // chroot as user 10001, as the image's USER line says. If the service answers from there,
    // the list of needs is complete.
    let root = lesson.out_file("image_root");
    let _ = std::fs::remove_dir_all(&root);
    let mut copied = BTreeSet::new();
    let mut wanted: Vec<String> = needs.libraries.clone();
    wanted.extend(needs.interpreter.clone());
    for library in &wanted {
        let source = if library.starts_with('/') {
            Some(PathBuf::from(library))
        } else {
            locate(library)
        };
        let source = source.with_context(|| format!("{library} is not on this system"))?;
        let target = root.join(source.strip_prefix("/").unwrap_or(&source));
        std::fs::create_dir_all(target.parent().context("a folder")?)?;
        std::fs::copy(&source, &target)?;
        copied.insert(source);
    }
    std::fs::copy(&binary, root.join("model-server"))?;
    std::fs::create_dir_all(root.join("models/1"))?;
    std::fs::copy(
        lesson.out_file("models/1/model.wbm"),
        root.join("models/1/model.wbm"),
    )?;
    let files: usize = walk(&root)?;
    let root_text = root.to_string_lossy().into_owned();
    // chroot needs root (CAP_SYS_CHROOT): asked first with a root that has everything, so that
    // only a missing privilege skips the check, never a missing file.
    let permitted = Command::new("chroot")
        .args(["/", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if permitted {
        let jailed = ModelServer::start_with(Command::new("chroot").args([
            "--userspec=10001:10001",
            &root_text,
            "/model-server",
            "--model-dir",
            "/models",
        ]))?;
        let url = jailed.url().to_string();
        let health = http_get(&format!("{url}/health"))?;
        let prediction = http_post(
            &format!("{url}/predict"),
            &request_body(penguins.artefact().metadata().features(), penguins.test_x()),
        )?;
        println!(
            "  chroot with {files} files ({} libraries): /health {}, /predict {} for {} birds",
            copied.len(),
            health.status(),
            prediction.status(),
            penguins.test_x().nrows()
        );
        lesson.claim(
            "the service runs from a root holding only the binary, its libraries and the model",
            health.status() == 200 && prediction.status() == 200,
            format!("{files} files, as user 10001: /health and /predict answer 200"),
            &[("files", files as f64)],
        );
    } else {
        println!("  chroot is not permitted here (it needs root): the image's root was not tried");
    }

    // Step 5: a real image, when a container runtime is reachable. Building it also needs the
    // two base images, which come from a registry this lesson never contacts.
    let daemon = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output();
    match daemon {
        Ok(out) if out.status.success() => println!(
            "  a docker daemon ({}) is reachable: build with `docker build -f crates/model-server/Dockerfile -t model-server .` once the base images are present",
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        Ok(_) => println!(
            "  docker is installed but no daemon is reachable: the image itself was not built here"
        ),
        Err(_) => {
            println!("  no container runtime is installed: the image itself was not built here")
        }
    }

    lesson.finish()?;
    Ok(())
}
