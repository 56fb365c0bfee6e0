//! The workbook as web pages, built from the catalogue, the lessons' sources and their latest
//! reports: an index with a thumbnail of each lesson's main figure and a search box; a page per
//! topic with the question, the hint, the answer revealed on click, the evidence, the Python
//! calls, follow-ups and pitfalls, the latest report (claims, metrics, figures) and the lesson's
//! code highlighted; a presenter view (large type, keyboard, predict-then-reveal); and a page of
//! the crates each lesson uses.
//!
//! The same pages serve two sites ([`Site`]): the live one that `workbook serve` runs, with a Run
//! button, and the static gallery that `workbook gallery` writes. Every page is self-contained:
//! its style and script are inside it, and nothing is loaded from the network.

pub mod highlight;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use catalogue::{ArtefactKind, Catalogue, Entry, Report, Status};

/// The errors of building pages.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No topic by that name.
    #[error("no topic named {0:?}")]
    UnknownTopic(String),
    /// Reading or writing a file.
    #[error(transparent)]
    Catalogue(#[from] catalogue::Error),
}

/// Which site a page belongs to: how it links, and whether it can run lessons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// Served by `workbook serve`: absolute paths, a Run button on ready topics.
    Live,
    /// Static files in one folder (`workbook gallery`): relative links, no Run button.
    Gallery,
}

impl Site {
    fn index(self) -> String {
        match self {
            Site::Live => "/".into(),
            Site::Gallery => "index.html".into(),
        }
    }

    fn topic(self, id: &str) -> String {
        match self {
            Site::Live => format!("/topic/{id}"),
            Site::Gallery => format!("{id}.html"),
        }
    }

    fn present(self, id: &str) -> String {
        match self {
            Site::Live => format!("/present/{id}"),
            Site::Gallery => format!("present-{id}.html"),
        }
    }

    fn crates(self) -> String {
        match self {
            Site::Live => "/crates".into(),
            Site::Gallery => "crates.html".into(),
        }
    }

    fn artefact(self, lesson: &str, file: &str) -> String {
        match self {
            Site::Live => format!("/artefact/{lesson}/{file}"),
            Site::Gallery => format!("artefacts/{lesson}/{file}"),
        }
    }
}

/// Text made safe to put in HTML, in an element or an attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Everything the pages are made from: the catalogue, each ready lesson's source and its latest
/// report (from the lesson's default output folder), read when the workbook is loaded.
pub struct Workbook {
    catalogue: Catalogue,
    sources: BTreeMap<String, String>,
    reports: BTreeMap<String, (Report, PathBuf)>,
}

impl Workbook {
    /// Reads the catalogue, the ready lessons' sources and whatever reports exist.
    pub fn load() -> Result<Workbook, PageError> {
        let catalogue = Catalogue::load()?;
        let root = catalogue::workspace_root();
        let mut sources = BTreeMap::new();
        let mut reports = BTreeMap::new();
        for site in catalogue.ready_sites() {
            if let Ok(source) = catalogue::read_text(&root.join(site.source())) {
                sources.insert(site.name.to_string(), source);
            }
            let dir = catalogue::default_out_dir(site.name);
            if let Ok(report) = Report::read(&dir.join("report.json")) {
                reports.insert(site.name.to_string(), (report, dir));
            }
        }
        Ok(Workbook {
            catalogue,
            sources,
            reports,
        })
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The latest report of a lesson, if it has run.
    pub fn report(&self, lesson: &str) -> Option<&Report> {
        self.reports.get(lesson).map(|(report, _)| report)
    }

    /// The file behind an artefact link: only a file the lesson's latest report lists, by its
    /// plain name (no folders, no `..`), is ever served.
    pub fn artefact_path(&self, lesson: &str, file: &str) -> Option<PathBuf> {
        if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
            return None;
        }
        let (report, dir) = self.reports.get(lesson)?;
        report
            .artefacts
            .iter()
            .any(|a| a.kind != ArtefactKind::Endpoint && a.location == file)
            .then(|| dir.join(file))
    }

    /// The topic a name designates (id, lesson or number), as the CLI finds it.
    fn entry(&self, name: &str) -> Result<&Entry, PageError> {
        self.catalogue
            .find(name)
            .map_err(|_| PageError::UnknownTopic(name.to_string()))
    }

    /// The ready topics in catalogue order: the presenter's sequence.
    fn ready(&self) -> Vec<&Entry> {
        self.catalogue
            .entries
            .iter()
            .filter(|e| e.status == Status::Ready)
            .collect()
    }

    /// The ready topics before and after `entry` in catalogue order, if any.
    fn neighbours(&self, entry: &Entry) -> (Option<&Entry>, Option<&Entry>) {
        let ready = self.ready();
        let at = ready.iter().position(|e| e.id == entry.id);
        let step = |by: isize| {
            at.and_then(|i| i.checked_add_signed(by))
                .and_then(|i| ready.get(i).copied())
        };
        (step(-1), step(1))
    }

    /// The first PNG figure of a lesson's latest report: its thumbnail and main figure.
    fn main_figure(&self, lesson: &str) -> Option<&str> {
        self.report(lesson)?
            .artefacts
            .iter()
            .find(|a| a.kind == ArtefactKind::Figure && a.location.ends_with(".png"))
            .map(|a| a.location.as_str())
    }

    /// The index: every section and topic, with status, difficulty, a thumbnail, and a search box
    /// that filters topics by words in their question and answer.
    pub fn index(&self, site: Site) -> String {
        let mut body = String::from(
            "<h1>The Rust data-science interview workbook</h1>\
             <p class=\"lead\">Interview questions answered with running code: every topic's lesson measures its answer and checks its claims.</p>\
             <p><input id=\"search\" type=\"search\" placeholder=\"Search topics: strides, leakage, bootstrap…\" autofocus></p>",
        );
        body.push_str(&format!(
            "<p class=\"small\"><a href=\"{}\">Which lessons use which crate</a></p>",
            site.crates()
        ));
        for section in &self.catalogue.sections {
            body.push_str(&format!(
                "<section><h2>{}. {} <span class=\"small\">(from {})</span></h2><div class=\"cards\">",
                section.number,
                escape(&section.title),
                escape(&section.python)
            ));
            for entry in self.catalogue.in_section(&section.id) {
                let ready = entry.status == Status::Ready;
                let thumbnail = self
                    .main_figure(&entry.lesson)
                    .filter(|_| ready)
                    .map(|file| {
                        format!(
                            "<img class=\"thumb\" alt=\"main figure of {}\" src=\"{}\">",
                            escape(&entry.lesson),
                            site.artefact(&entry.lesson, file)
                        )
                    })
                    .unwrap_or_default();
                let words = format!(
                    "{} {} {} {}",
                    entry.title, entry.question, entry.answer, entry.evidence
                )
                .to_lowercase();
                let title = if ready {
                    format!(
                        "<a href=\"{}\">{}. {}</a>",
                        site.topic(&entry.id),
                        entry.number,
                        escape(&entry.title)
                    )
                } else {
                    format!("{}. {}", entry.number, escape(&entry.title))
                };
                body.push_str(&format!(
                    "<div class=\"card {}\" data-words=\"{}\">{thumbnail}<h3>{title}</h3><p>{}</p>\
                     <p class=\"small\"><span class=\"badge\">{}</span> <span class=\"badge {}\">{}</span></p></div>",
                    if ready { "ready" } else { "planned" },
                    escape(&words),
                    escape(&entry.question),
                    entry.difficulty,
                    if ready { "held" } else { "" },
                    entry.status
                ));
            }
            body.push_str("</div></section>");
        }
        page(
            "The Rust data-science interview workbook",
            "index",
            &body,
            INDEX_SCRIPT,
        )
    }

    /// A topic's page: the question, the hint, the answer in four parts (the 30-second answer
    /// revealed on click), the latest report, a Run button on the live site, and the lesson's
    /// code.
    pub fn topic(&self, name: &str, site: Site) -> Result<String, PageError> {
        let entry = self.entry(name)?;
        let owner = self.catalogue.lesson_owner(entry);
        let lesson = &entry.lesson;
        let ready = entry.status == Status::Ready;
        let mut body = self.navigation(entry, site);
        body.push_str(&format!(
            "<h1>{}. {}</h1><p class=\"small\"><span class=\"badge\">{}</span> <span class=\"badge\">{}</span> <span class=\"badge\">lesson <code>{}</code></span></p>\
             <p class=\"question\">{}</p><p class=\"hint\">Hint: {}</p>\
             <details id=\"answer\"><summary>The answer in 30 seconds</summary><p>{}</p></details>",
            entry.number,
            escape(&entry.title),
            escape(&entry.section),
            entry.difficulty,
            escape(lesson),
            escape(&entry.question),
            escape(&entry.hint),
            escape(&entry.answer),
        ));
        if !owner.evidence.is_empty() {
            body.push_str(&format!(
                "<h2>The evidence</h2><p>{}</p>",
                escape(&owner.evidence)
            ));
        }
        if !owner.python.is_empty() {
            body.push_str("<h2>In Python, and here</h2><table><tr><th>Python</th><th>Rust in this workbook</th></tr>");
            for t in &owner.python {
                body.push_str(&format!(
                    "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    escape(&t.python),
                    escape(&t.rust)
                ));
            }
            body.push_str("</table>");
        }
        if !owner.follow_ups.is_empty() {
            body.push_str("<h2>Follow-ups</h2>");
            for f in &owner.follow_ups {
                body.push_str(&format!(
                    "<details><summary>{}</summary><p>{}</p></details>",
                    escape(&f.question),
                    escape(&f.answer)
                ));
            }
        }
        if !owner.pitfalls.is_empty() {
            body.push_str("<h2>Pitfalls</h2><ul>");
            for p in &owner.pitfalls {
                body.push_str(&format!("<li>{}</li>", escape(p)));
            }
            body.push_str("</ul>");
        }
        body.push_str(&self.report_section(lesson, site));
        if ready && site == Site::Live {
            body.push_str(&format!(
                "<h2>Run it</h2><p><button class=\"run\" data-lesson=\"{0}\" data-mode=\"quick\">Run quick</button> \
                 <button class=\"run\" data-lesson=\"{0}\" data-mode=\"full\">Run full size</button> \
                 <span id=\"run-state\" class=\"small\"></span></p><pre id=\"output\" class=\"output\"></pre>",
                escape(lesson)
            ));
        }
        if let Some(source) = self.sources.get(lesson.as_str()) {
            let path = self
                .catalogue
                .site(lesson)
                .map(|s| s.source().display().to_string())
                .unwrap_or_default();
            let crates = crates_used(source);
            body.push_str(&format!(
                "<h2>The lesson: <code>{}</code></h2><p class=\"small\">Uses {}. Run it with <code>cargo run --example {}</code>.</p><pre class=\"code\">{}</pre>",
                escape(&path),
                crates
                    .iter()
                    .map(|c| format!("<a href=\"{}#{c}\">{c}</a>", site.crates()))
                    .collect::<Vec<_>>()
                    .join(", "),
                escape(lesson),
                highlight::rust_html(source)
            ));
        }
        Ok(page(&entry.title, "topic", &body, TOPIC_SCRIPT))
    }

    /// Links to the index, the presenter view and the neighbouring ready topics.
    fn navigation(&self, entry: &Entry, site: Site) -> String {
        let (previous, next) = self.neighbours(entry);
        let mut links = vec![format!("<a href=\"{}\">All topics</a>", site.index())];
        if let Some(previous) = previous {
            links.push(format!(
                "<a id=\"previous\" href=\"{}\">← {}</a>",
                site.topic(&previous.id),
                escape(&previous.title)
            ));
        }
        if let Some(next) = next {
            links.push(format!(
                "<a id=\"next\" href=\"{}\">{} →</a>",
                site.topic(&next.id),
                escape(&next.title)
            ));
        }
        if entry.status == Status::Ready {
            links.push(format!(
                "<a href=\"{}\">Present</a>",
                site.present(&entry.id)
            ));
        }
        format!("<nav>{}</nav>", links.join(" · "))
    }

    /// The latest report: claims, metrics, figures and other artefacts; or a note that the
    /// lesson has not run yet.
    fn report_section(&self, lesson: &str, site: Site) -> String {
        let Some(report) = self.report(lesson) else {
            return "<section id=\"report\"><h2>The latest run</h2><p>Not run yet on this machine.</p></section>".into();
        };
        let held = report.claims.iter().filter(|c| c.holds).count();
        let mut html = format!(
            "<section id=\"report\"><h2>The latest run</h2><p class=\"small\" id=\"run-summary\">{} mode, seed {}, {held}/{} claims held, {:.2} s, {} build on {} CPUs</p><table class=\"claims\">",
            if report.quick { "quick" } else { "full" },
            report.seed,
            report.claims.len(),
            report.duration_s,
            escape(&report.build.profile),
            report.build.cpus,
        );
        for claim in &report.claims {
            html.push_str(&format!(
                "<tr class=\"{}\"><td>{}</td><td><b>{}</b><br><span class=\"small\">{}</span></td></tr>",
                if claim.holds { "held" } else { "failed" },
                if claim.holds { "holds" } else { "FAILS" },
                escape(&claim.claim),
                escape(&claim.evidence)
            ));
        }
        html.push_str("</table>");
        if !report.metrics.is_empty() {
            html.push_str("<details><summary>Metrics</summary><table>");
            for (name, value) in &report.metrics {
                html.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td></tr>",
                    escape(name),
                    value
                ));
            }
            html.push_str("</table></details>");
        }
        let served = report
            .artefacts
            .iter()
            .any(|a| a.kind == ArtefactKind::Endpoint);
        for artefact in &report.artefacts {
            let url = site.artefact(lesson, &artefact.location);
            let name = escape(&artefact.location);
            match artefact.kind {
                ArtefactKind::Figure if artefact.location.ends_with(".png") => {
                    html.push_str(&format!(
                        "<figure><img src=\"{url}\" alt=\"{name}\"><figcaption>{name} (<a href=\"{}\">SVG</a>)</figcaption></figure>",
                        site.artefact(lesson, &artefact.location.replace(".png", ".svg"))
                    ));
                }
                ArtefactKind::Figure => {}
                ArtefactKind::Endpoint => html.push_str(&format!(
                    "<p class=\"small\">Served while it ran: <code>{name}</code></p>"
                )),
                // A page that talks to the lesson's own server would show only errors here; the
                // others (an interactive chart) work inline.
                ArtefactKind::Html if !served => html.push_str(&format!(
                    "<figure><iframe src=\"{url}\" title=\"{name}\" loading=\"lazy\"></iframe><figcaption>{name} (<a href=\"{url}\">open</a>)</figcaption></figure>"
                )),
                ArtefactKind::Html => html.push_str(&format!(
                    "<p class=\"small\">HTML: <a href=\"{url}\">{name}</a> (the page as its server sent it; it needs that server: <code>cargo run --example {} -- --serve</code>)</p>",
                    escape(lesson)
                )),
                kind => html.push_str(&format!(
                    "<p class=\"small\">{kind}: <a href=\"{url}\">{name}</a></p>"
                )),
            }
        }
        html.push_str("</section>");
        html
    }

    /// The presenter's view of a topic: the question in large type; A reveals the answer, the
    /// predictions are asked one by one and revealed with the measured value; → and ← move
    /// through the ready topics, Escape goes back to the topic's page.
    pub fn present(&self, name: &str, site: Site) -> Result<String, PageError> {
        let entry = self.entry(name)?;
        let owner = self.catalogue.lesson_owner(entry);
        let (previous, next) = self.neighbours(entry);
        let link =
            |neighbour: Option<&Entry>| neighbour.map(|e| site.present(&e.id)).unwrap_or_default();
        let mut body = format!(
            "<div class=\"present\" data-next=\"{}\" data-previous=\"{}\" data-topic=\"{}\">\
             <p class=\"small\">{}. {} · press A for the answer, → next, ← previous, Esc to leave</p>\
             <h1 class=\"question\">{}</h1><p class=\"hint\">{}</p>\
             <div id=\"answer\" hidden><p>{}</p><p class=\"small\">{}</p>{}</div>",
            link(next),
            link(previous),
            site.topic(&entry.id),
            entry.number,
            escape(&entry.title),
            escape(&entry.question),
            escape(&entry.hint),
            escape(&entry.answer),
            escape(&owner.evidence),
            self.main_figure(&entry.lesson)
                .map(|file| format!(
                    "<img class=\"main\" alt=\"main figure\" src=\"{}\">",
                    site.artefact(&entry.lesson, file)
                ))
                .unwrap_or_default(),
        );
        let report = self.report(&entry.lesson);
        for prediction in &owner.predictions {
            let measured = report.and_then(|r| prediction.measured(r).ok());
            let nearest = measured.map(|v| prediction.nearest_option(v));
            body.push_str(&format!(
                "<div class=\"prediction\" data-measured=\"{}\" data-nearest=\"{}\"><p>Predict: {}</p><p>",
                measured.map(|v| format!("{v:.3}")).unwrap_or_default(),
                nearest.map(|i| i.to_string()).unwrap_or_default(),
                escape(&prediction.question)
            ));
            for (i, option) in prediction.options.iter().enumerate() {
                body.push_str(&format!(
                    "<button class=\"option\" data-option=\"{i}\">{option} {}</button> ",
                    escape(&prediction.unit)
                ));
            }
            body.push_str(&format!(
                "</p><p class=\"reveal\" hidden>Measured on this machine: <b>{}</b> {}</p></div>",
                measured
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_else(|| "not yet (run the lesson)".into()),
                escape(&prediction.unit)
            ));
        }
        body.push_str("</div>");
        Ok(page(&entry.title, "presenter", &body, PRESENT_SCRIPT))
    }

    /// Which lessons use which crate (from their `use` lines), each crate an anchor the topic
    /// pages link to.
    pub fn crates(&self, site: Site) -> String {
        let mut users: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for (lesson, source) in &self.sources {
            for name in crates_used(source) {
                users.entry(name).or_default().insert(lesson);
            }
        }
        let mut body = format!(
            "<nav><a href=\"{}\">All topics</a></nav><h1>Which lessons use which crate</h1>",
            site.index()
        );
        for (name, lessons) in &users {
            body.push_str(&format!(
                "<h2 id=\"{name}\"><code>{name}</code></h2><p>{}</p>",
                lessons
                    .iter()
                    .map(|l| {
                        let id = self.catalogue.find(l).map_or(*l, |e| e.id.as_str());
                        format!("<a href=\"{}\">{}</a>", site.topic(id), escape(l))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        page("Crates", "crates", &body, "")
    }

    /// Writes the static gallery into `out`: the index, every ready topic and its presenter view,
    /// the crates page, and the artefacts those pages show, copied under `artefacts/`. Returns
    /// the number of pages and their total size in bytes.
    pub fn write_gallery(&self, out: &Path) -> Result<(usize, u64), PageError> {
        let io = |path: &Path, e: std::io::Error| catalogue::Error::io(path, e);
        std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
        let mut pages = vec![
            ("index.html".to_string(), self.index(Site::Gallery)),
            ("crates.html".to_string(), self.crates(Site::Gallery)),
        ];
        for entry in self.ready() {
            pages.push((
                format!("{}.html", entry.id),
                self.topic(&entry.id, Site::Gallery)?,
            ));
            pages.push((
                format!("present-{}.html", entry.id),
                self.present(&entry.id, Site::Gallery)?,
            ));
        }
        let mut bytes = 0;
        for (name, html) in &pages {
            catalogue::write_atomically(&out.join(name), html)?;
            bytes += html.len() as u64;
        }
        for (lesson, (report, _)) in &self.reports {
            let target = out.join("artefacts").join(lesson);
            std::fs::create_dir_all(&target).map_err(|e| io(&target, e))?;
            for artefact in &report.artefacts {
                if let Some(from) = self.artefact_path(lesson, &artefact.location) {
                    let to = target.join(&artefact.location);
                    std::fs::copy(&from, &to).map_err(|e| io(&from, e))?;
                }
            }
        }
        Ok((pages.len(), bytes))
    }
}

/// The crates a lesson names in its `use` lines (its own workspace's crates included: harness,
/// toolkit, datasets), std and core left out.
fn crates_used(source: &str) -> BTreeSet<String> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("use "))
        .filter_map(|path| path.split("::").next())
        .map(|name| {
            name.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'))
                .to_string()
        })
        .filter(|name| {
            !name.is_empty()
                && !["std", "core", "alloc", "crate", "self", "super"].contains(&name.as_str())
        })
        .collect()
}

/// A whole page: the house style and the page's script inline, nothing loaded from elsewhere.
fn page(title: &str, kind: &str, body: &str, script: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body class=\"{kind}\"><main>{body}</main><script>{script}</script></body></html>\n",
        escape(title)
    )
}

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 1.2em 1.5em 4em; }
a { color: #0062a3; }
nav { margin-bottom: 1em; }
.small { font-size: 0.85em; color: #555; }
.lead { font-size: 1.1em; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 0.8em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 0.8em; background: #fff; }
.card.planned { opacity: 0.55; }
.card h3 { font-size: 1em; margin: 0.3em 0; }
.card p { margin: 0.3em 0; font-size: 0.9em; }
.thumb { width: 100%; height: 130px; object-fit: contain; background: #fafafa; }
.badge { border: 1px solid #bbb; border-radius: 3px; padding: 0 0.35em; }
.badge.held { border-color: #2a7d2a; color: #2a7d2a; }
.question { font-size: 1.35em; font-weight: bold; }
.hint { color: #555; font-style: italic; }
details { margin: 0.6em 0; }
summary { cursor: pointer; font-weight: bold; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border-bottom: 1px solid #e3e3e3; padding: 0.25em 0.6em; vertical-align: top; text-align: left; }
tr.held td:first-child { color: #2a7d2a; font-weight: bold; }
tr.failed td:first-child { color: #b00; font-weight: bold; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figure iframe { width: 100%; height: 560px; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
pre.output { max-height: 24em; overflow-y: auto; white-space: pre-wrap; }
.code .c { color: #6a737d; } .code .d { color: #2f6f44; } .code .s { color: #a33a00; }
.code .n { color: #005cc5; } .code .k { color: #8a2be2; font-weight: bold; } .code .m { color: #b8860b; }
.code .l { color: #b8860b; } .code .t { color: #0a6d75; }
button { font-size: 1em; padding: 0.3em 0.8em; }
.presenter main { max-width: none; font-size: 1.6em; }
.presenter .question { font-size: 2em; }
.presenter img.main { max-width: 100%; max-height: 70vh; }
.prediction .right { background: #cfeccf; } .prediction .wrong { background: #f3d0d0; }
"#;

/// The index's search: every word typed must appear in a topic's title, question, answer or
/// evidence.
const INDEX_SCRIPT: &str = r#"
const box = document.getElementById("search");
box.addEventListener("input", () => {
  const words = box.value.toLowerCase().split(/\s+/).filter(w => w);
  for (const card of document.querySelectorAll(".card")) {
    card.hidden = !words.every(w => card.dataset.words.includes(w));
  }
});
"#;

/// The Run buttons: the lesson's output streams in as the server sends it (server-sent events
/// over a POST), then the report section is replaced by the new one.
const TOPIC_SCRIPT: &str = r#"
const output = document.getElementById("output");
const state = document.getElementById("run-state");
async function run(lesson, mode) {
  const buttons = document.querySelectorAll("button.run");
  buttons.forEach(b => b.disabled = true);
  output.textContent = "";
  delete document.body.dataset.firstLineMs;
  delete document.body.dataset.runDone;
  state.textContent = `running ${lesson} (${mode})…`;
  const started = performance.now();
  try {
    const answer = await fetch(`/api/run/${lesson}?mode=${mode}`, { method: "POST" });
    if (!answer.ok) {
      const message = (await answer.json()).error;
      state.textContent = message;
      document.body.dataset.runDone = "refused";
      return;
    }
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      let cut;
      while ((cut = pending.indexOf("\n\n")) >= 0) {
        const event = pending.slice(0, cut);
        pending = pending.slice(cut + 2);
        const kind = (event.match(/^event: (.*)$/m) || [])[1] || "line";
        const data = event.split("\n").filter(l => l.startsWith("data: ")).map(l => l.slice(6)).join("\n");
        if (kind === "line") {
          if (!document.body.dataset.firstLineMs) {
            document.body.dataset.firstLineMs = String(Math.round(performance.now() - started));
          }
          output.textContent += data + "\n";
          output.scrollTop = output.scrollHeight;
        } else if (kind === "done") {
          const result = JSON.parse(data);
          state.textContent = result.ok ? "finished: every claim held" : `finished with ${result.status}`;
          const fresh = new DOMParser().parseFromString(await (await fetch(location.href)).text(), "text/html");
          document.getElementById("report").replaceWith(fresh.getElementById("report"));
          document.body.dataset.runDone = result.ok ? "ok" : "failed";
        }
      }
    }
  } finally {
    buttons.forEach(b => b.disabled = false);
  }
}
document.querySelectorAll("button.run").forEach(b =>
  b.addEventListener("click", () => run(b.dataset.lesson, b.dataset.mode)));
"#;

/// The presenter's keys and the predict-then-reveal buttons.
const PRESENT_SCRIPT: &str = r#"
const view = document.querySelector(".present");
document.addEventListener("keydown", event => {
  if (event.key === "ArrowRight" && view.dataset.next) location.href = view.dataset.next;
  else if (event.key === "ArrowLeft" && view.dataset.previous) location.href = view.dataset.previous;
  else if (event.key === "Escape") location.href = view.dataset.topic;
  else if (event.key === "a" || event.key === "A") document.getElementById("answer").hidden = false;
});
for (const prediction of document.querySelectorAll(".prediction")) {
  for (const option of prediction.querySelectorAll("button.option")) {
    option.addEventListener("click", () => {
      prediction.querySelector(".reveal").hidden = false;
      const nearest = prediction.dataset.nearest;
      if (nearest !== "") {
        option.classList.add(option.dataset.option === nearest ? "right" : "wrong");
        prediction.querySelector(`[data-option="${nearest}"]`).classList.add("right");
      }
    });
  }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn crates_come_from_use_lines() {
        let source = "use std::io;\nuse polars::prelude::*;\nuse harness::prelude::*;\nuse ndarray::{Array2, s};\n    use rand::Rng;\nfn main() { let x = 1; }\n";
        let crates: Vec<String> = crates_used(source).into_iter().collect();
        assert_eq!(crates, ["harness", "ndarray", "polars", "rand"]);
    }

    #[test]
    fn sites_link_differently() {
        assert_eq!(Site::Live.topic("broadcasting"), "/topic/broadcasting");
        assert_eq!(Site::Gallery.topic("broadcasting"), "broadcasting.html");
        assert_eq!(
            Site::Gallery.artefact("broadcasting", "a.png"),
            "artefacts/broadcasting/a.png"
        );
    }
}
