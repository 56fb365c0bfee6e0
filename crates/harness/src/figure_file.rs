//! Reading a figure back from its file, so that a lesson can check what it drew where a reader
//! sees it — the decoded pixels of a PNG, the elements of an SVG — and not only the numbers
//! behind the drawing.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::ops::Range;
use std::path::Path;

use catalogue::ArtefactKind;

use crate::Error;

/// A decoded PNG: its size and one RGB triple per pixel, row by row (alpha, if any, dropped).
#[derive(Debug, Clone)]
pub struct Raster {
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

impl Raster {
    /// Decodes an 8-bit RGB or RGBA PNG.
    pub fn read(path: &Path) -> Result<Raster, Error> {
        let invalid = |message: String| Error::Artefact {
            kind: ArtefactKind::Figure,
            path: path.to_path_buf(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|e| invalid(e.to_string()))?;
        let mut reader = png::Decoder::new(BufReader::new(file))
            .read_info()
            .map_err(|e| invalid(format!("does not decode as PNG: {e}")))?;
        let mut bytes = vec![0; reader.output_buffer_size()];
        let frame = reader
            .next_frame(&mut bytes)
            .map_err(|e| invalid(format!("its pixels do not decode: {e}")))?;
        let channels = match (frame.color_type, frame.bit_depth) {
            (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
            (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
            (kind, depth) => {
                return Err(invalid(format!(
                    "{kind:?} at {depth:?} is not 8-bit RGB(A)"
                )));
            }
        };
        let rgb = bytes[..frame.buffer_size()]
            .chunks_exact(frame.line_size)
            .flat_map(|line| {
                line[..frame.width as usize * channels]
                    .chunks_exact(channels)
                    .map(|p| [p[0], p[1], p[2]])
            })
            .collect();
        Ok(Raster {
            width: frame.width,
            height: frame.height,
            rgb,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The colour at column `x`, row `y` (0, 0 is the top left).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        self.rgb[(y * self.width + x) as usize]
    }

    /// Every pixel position whose colour is exactly `color`.
    pub fn positions_of(&self, color: [u8; 3]) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.rgb
            .iter()
            .enumerate()
            .filter(move |(_, c)| **c == color)
            .map(|(i, _)| (i as u32 % self.width, i as u32 / self.width))
    }

    /// The pixels inside a rectangle (columns `x`, rows `y`, ends excluded).
    pub fn region(&self, x: Range<u32>, y: Range<u32>) -> impl Iterator<Item = [u8; 3]> + '_ {
        y.flat_map(move |row| x.clone().map(move |col| self.pixel(col, row)))
    }
}

/// One element of an SVG: its tag name and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct SvgElement {
    name: String,
    attributes: BTreeMap<String, String>,
    text: String,
}

impl SvgElement {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// The text directly inside the element (a `<text>` label's words), trimmed.
    pub fn text(&self) -> &str {
        self.text.trim()
    }

    /// An attribute read as a number.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.attribute(name)?.trim_end_matches("px").parse().ok()
    }
}

/// Every element of an SVG file, in document order.
pub fn svg_elements(path: &Path) -> Result<Vec<SvgElement>, Error> {
    use quick_xml::events::Event;
    let invalid = |message: String| Error::Artefact {
        kind: ArtefactKind::Figure,
        path: path.to_path_buf(),
        message,
    };
    let mut reader = quick_xml::Reader::from_file(path).map_err(|e| invalid(e.to_string()))?;
    let mut buffer = Vec::new();
    let mut elements = Vec::new();
    loop {
        match reader
            .read_event_into(&mut buffer)
            .map_err(|e| invalid(format!("does not parse as XML: {e}")))?
        {
            Event::Start(e) | Event::Empty(e) => {
                let mut attributes = BTreeMap::new();
                for attribute in e.attributes() {
                    let attribute =
                        attribute.map_err(|e| invalid(format!("a bad attribute: {e}")))?;
                    let value = attribute
                        .unescape_value()
                        .map_err(|e| invalid(format!("a bad attribute value: {e}")))?;
                    attributes.insert(
                        String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
                        value.into_owned(),
                    );
                }
                elements.push(SvgElement {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    attributes,
                    text: String::new(),
                });
            }
            Event::Text(t) => {
                if let Some(last) = elements.last_mut() {
                    let text = t.decode().map_err(|e| invalid(format!("bad text: {e}")))?;
                    last.text.push_str(&text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    Ok(elements)
}

/// `#rrggbb` or `rgb(r,g,b)` as a triple; anything else is None.
pub fn parse_color(text: &str) -> Option<[u8; 3]> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        return Some([byte(0)?, byte(2)?, byte(4)?]);
    }
    let inner = text.strip_prefix("rgb(")?.strip_suffix(')')?;
    let parts: Vec<u8> = inner
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    <[u8; 3]>::try_from(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_in_both_notations() {
        assert_eq!(parse_color("#1F77b4"), Some([0x1f, 0x77, 0xb4]));
        assert_eq!(parse_color("rgb(1, 2, 255)"), Some([1, 2, 255]));
        assert_eq!(parse_color("blue"), None);
        assert_eq!(parse_color("#12345"), None);
    }
}
