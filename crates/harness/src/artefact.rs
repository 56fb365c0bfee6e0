//! The checks each kind of evidence passes when a lesson records it, so that a report never points
//! at a broken figure, a page that phones home, or a table a reader cannot load.

use std::io::BufReader;
use std::path::Path;

use catalogue::ArtefactKind;

use crate::Error;

/// Checks that the file at `path` is a well-formed artefact of `kind`. An endpoint is an address,
/// not a file: record it with [`crate::Lesson::record_endpoint`].
pub fn validate(kind: ArtefactKind, path: &Path) -> Result<(), Error> {
    let invalid = |message: String| Error::Artefact {
        kind,
        path: path.to_path_buf(),
        message,
    };
    let metadata = std::fs::metadata(path).map_err(|e| invalid(format!("not written ({e})")))?;
    if !metadata.is_file() || metadata.len() == 0 {
        return Err(invalid("not a file, or empty".into()));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let checked = match (kind, extension.as_str()) {
        (ArtefactKind::Figure, "png") => check_png(path),
        (ArtefactKind::Figure, "svg") => check_svg(path),
        (ArtefactKind::Figure, other) => Err(format!("a figure is .png or .svg, not .{other}")),
        (ArtefactKind::Html, "html" | "htm") => check_html(path),
        (ArtefactKind::Html, other) => Err(format!("an HTML page ends in .html, not .{other}")),
        (ArtefactKind::Table, "csv") => check_csv(path),
        (ArtefactKind::Table, other) => Err(format!("a table is a .csv file, not .{other}")),
        (ArtefactKind::Data | ArtefactKind::Model, "json" | "ipynb") => check_json(path),
        (ArtefactKind::Data | ArtefactKind::Model, _) => Ok(()),
        (ArtefactKind::Endpoint, _) => Err("an endpoint is an address, not a file".into()),
    };
    checked.map_err(invalid)
}

/// A PNG must decode completely to an image with pixels.
fn check_png(path: &Path) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut reader = png::Decoder::new(BufReader::new(file))
        .read_info()
        .map_err(|e| format!("does not decode as PNG: {e}"))?;
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader
        .next_frame(&mut pixels)
        .map_err(|e| format!("its pixels do not decode: {e}"))?;
    if frame.width == 0 || frame.height == 0 {
        return Err("it has no pixels".into());
    }
    Ok(())
}

/// An SVG must parse as XML with one `<svg>` root element that draws something.
fn check_svg(path: &Path) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_file(path).map_err(|e| e.to_string())?;
    let mut buffer = Vec::new();
    let (mut depth, mut roots, mut drawn) = (0usize, Vec::new(), 0usize);
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| format!("does not parse as XML: {e}"))?;
        let name = match &event {
            Event::Start(e) | Event::Empty(e) => Some(e.name().as_ref().to_vec()),
            _ => None,
        };
        if let Some(name) = name {
            if depth == 0 {
                roots.push(String::from_utf8_lossy(&name).into_owned());
            }
            if matches!(
                name.as_slice(),
                b"rect" | b"path" | b"polyline" | b"polygon" | b"circle" | b"line" | b"text"
            ) {
                drawn += 1;
            }
        }
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if depth != 0 {
        return Err(format!("{depth} element(s) are never closed"));
    }
    if roots != ["svg"] {
        return Err(format!("the root elements are {roots:?}, not one <svg>"));
    }
    if drawn == 0 {
        return Err("it draws nothing".into());
    }
    Ok(())
}

/// An HTML page must parse and load nothing from the network: no script, style sheet, image,
/// frame or media source on another host, and no `url(http…)` in its styles.
fn check_html(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let dom = tl::parse(&text, tl::ParserOptions::default())
        .map_err(|e| format!("does not parse as HTML: {e}"))?;
    let mut elements = 0;
    for node in dom.nodes() {
        let Some(tag) = node.as_tag() else { continue };
        elements += 1;
        let name = tag.name().as_utf8_str().to_ascii_lowercase();
        let loads = matches!(
            name.as_str(),
            "script"
                | "link"
                | "img"
                | "iframe"
                | "source"
                | "video"
                | "audio"
                | "embed"
                | "object"
        );
        if !loads {
            continue;
        }
        for attribute in ["src", "href", "data", "srcset"] {
            if let Some(Some(value)) = tag.attributes().get(attribute) {
                let value = value.as_utf8_str();
                if is_remote(&value) {
                    return Err(format!(
                        "<{name} {attribute}=\"{value}\"> loads from the network"
                    ));
                }
            }
        }
    }
    if elements == 0 {
        return Err("it holds no elements".into());
    }
    let lower = text.to_ascii_lowercase();
    for pattern in [
        "url(http:",
        "url(https:",
        "url(//",
        "url('http",
        "url(\"http",
        "@import \"http",
        "@import 'http",
    ] {
        if lower.contains(pattern) {
            return Err(format!("its styles load from the network ({pattern}…)"));
        }
    }
    Ok(())
}

fn is_remote(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    value.starts_with("http://") || value.starts_with("https://") || value.starts_with("//")
}

/// A CSV table must have a header and at least one row, every row as wide as the header.
fn check_csv(path: &Path) -> Result<(), String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
    let width = reader
        .headers()
        .map_err(|e| format!("unreadable header: {e}"))?
        .len();
    if width == 0 {
        return Err("the header is empty".into());
    }
    let mut rows = 0;
    for record in reader.records() {
        record.map_err(|e| format!("row {}: {e}", rows + 1))?;
        rows += 1;
    }
    if rows == 0 {
        return Err("a header and no rows".into());
    }
    Ok(())
}

fn check_json(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("not UTF-8 text: {e}"))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map(|_| ())
        .map_err(|e| format!("does not parse as JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("harness-artefact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn svg_must_parse_close_and_draw() {
        let good = file(
            "good.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect x=\"1\"/><text>a</text></svg>",
        );
        assert!(validate(ArtefactKind::Figure, &good).is_ok());
        let open = file("open.svg", b"<svg><g><rect/></svg>");
        assert!(validate(ArtefactKind::Figure, &open).is_err());
        let empty = file("empty.svg", b"<svg></svg>");
        assert!(validate(ArtefactKind::Figure, &empty).is_err());
        let two = file("two.svg", b"<svg><rect/></svg><svg><rect/></svg>");
        assert!(validate(ArtefactKind::Figure, &two).is_err());
    }

    #[test]
    fn a_truncated_png_is_refused() {
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, 4, 3);
            encoder.set_color(png::ColorType::Rgb);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&[200; 36]).unwrap();
        }
        assert!(validate(ArtefactKind::Figure, &file("ok.png", &bytes)).is_ok());
        let cut = &bytes[..bytes.len() - 20];
        assert!(validate(ArtefactKind::Figure, &file("cut.png", cut)).is_err());
    }

    #[test]
    fn html_must_not_load_from_the_network() {
        let local = file("local.html", b"<html><head><script>let a = 1;</script></head><body><a href=\"https://example.org\">a link is not a load</a></body></html>");
        assert!(validate(ArtefactKind::Html, &local).is_ok());
        let cdn = file(
            "cdn.html",
            b"<html><head><script src=\"https://cdn.example/plot.js\"></script></head></html>",
        );
        let err = validate(ArtefactKind::Html, &cdn).unwrap_err().to_string();
        assert!(err.contains("loads from the network"), "{err}");
        let style = file(
            "style.html",
            b"<html><style>body { background: url(https://x/y.png) }</style></html>",
        );
        assert!(validate(ArtefactKind::Html, &style).is_err());
    }

    #[test]
    fn a_table_needs_a_header_and_even_rows() {
        assert!(validate(ArtefactKind::Table, &file("ok.csv", b"a,b\n1,2\n")).is_ok());
        assert!(validate(ArtefactKind::Table, &file("ragged.csv", b"a,b\n1,2,3\n")).is_err());
        assert!(validate(ArtefactKind::Table, &file("header.csv", b"a,b\n")).is_err());
        assert!(validate(ArtefactKind::Table, &file("t.txt", b"a,b\n1,2\n")).is_err());
    }

    #[test]
    fn json_data_must_parse() {
        assert!(validate(ArtefactKind::Data, &file("ok.json", b"{\"a\": 1}")).is_ok());
        assert!(validate(ArtefactKind::Data, &file("bad.json", b"{\"a\": ")).is_err());
        assert!(validate(ArtefactKind::Model, &file("m.bin", b"\x00\x01")).is_ok());
    }
}
