//! Colour as a reader sees it: sRGB to CIELAB, the CIEDE2000 colour difference, and the
//! simulation of red–green colour blindness by Machado, Oliveira and Fernandes (2009).

/// A CIELAB colour (D65 white): lightness 0–100 and the two opponent axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lab {
    pub l: f64,
    pub a: f64,
    pub b: f64,
}

/// An 8-bit sRGB channel to linear light.
fn linear(channel: u8) -> f64 {
    let c = f64::from(channel) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light back to an 8-bit sRGB channel (clamped).
fn encoded(value: f64) -> u8 {
    let v = value.clamp(0.0, 1.0);
    let c = if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (c * 255.0).round() as u8
}

/// sRGB (D65) to CIELAB.
pub fn lab(rgb: [u8; 3]) -> Lab {
    let [r, g, b] = rgb.map(linear);
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b;
    let z = 0.019_333_9 * r + 0.119_192_0 * g + 0.950_304_1 * b;
    let f = |t: f64| {
        if t > (6.0f64 / 29.0).powi(3) {
            t.cbrt()
        } else {
            t / (3.0 * (6.0f64 / 29.0).powi(2)) + 4.0 / 29.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.950_47), f(y), f(z / 1.088_83));
    Lab {
        l: 116.0 * fy - 16.0,
        a: 500.0 * (fx - fy),
        b: 200.0 * (fy - fz),
    }
}

/// The CIEDE2000 difference between two colours (Sharma, Wu and Dalal's formulation), with the
/// usual weights kL = kC = kH = 1. About 1 is just noticeable side by side; categorical palettes
/// aim for 20 or more between any two colours.
pub fn ciede2000(one: Lab, two: Lab) -> f64 {
    use std::f64::consts::PI;
    let deg = |r: f64| r * 180.0 / PI;
    let rad = |d: f64| d * PI / 180.0;
    let c_bar = (one.a.hypot(one.b) + two.a.hypot(two.b)) / 2.0;
    let g = 0.5 * (1.0 - (c_bar.powi(7) / (c_bar.powi(7) + 25f64.powi(7))).sqrt());
    let (a1, a2) = ((1.0 + g) * one.a, (1.0 + g) * two.a);
    let (c1, c2) = (a1.hypot(one.b), a2.hypot(two.b));
    let hue = |b: f64, a: f64| {
        if b == 0.0 && a == 0.0 {
            0.0
        } else {
            let h = deg(b.atan2(a));
            if h < 0.0 { h + 360.0 } else { h }
        }
    };
    let (h1, h2) = (hue(one.b, a1), hue(two.b, a2));
    let dl = two.l - one.l;
    let dc = c2 - c1;
    let dh = if c1 * c2 == 0.0 {
        0.0
    } else if (h2 - h1).abs() <= 180.0 {
        h2 - h1
    } else if h2 - h1 > 180.0 {
        h2 - h1 - 360.0
    } else {
        h2 - h1 + 360.0
    };
    let d_big_h = 2.0 * (c1 * c2).sqrt() * rad(dh / 2.0).sin();
    let l_bar = (one.l + two.l) / 2.0;
    let c_bar_p = (c1 + c2) / 2.0;
    let h_bar = if c1 * c2 == 0.0 {
        h1 + h2
    } else if (h1 - h2).abs() <= 180.0 {
        (h1 + h2) / 2.0
    } else if h1 + h2 < 360.0 {
        (h1 + h2 + 360.0) / 2.0
    } else {
        (h1 + h2 - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * rad(h_bar - 30.0).cos()
        + 0.24 * rad(2.0 * h_bar).cos()
        + 0.32 * rad(3.0 * h_bar + 6.0).cos()
        - 0.20 * rad(4.0 * h_bar - 63.0).cos();
    let d_theta = 30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp();
    let r_c = 2.0 * (c_bar_p.powi(7) / (c_bar_p.powi(7) + 25f64.powi(7))).sqrt();
    let s_l = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
    let s_c = 1.0 + 0.045 * c_bar_p;
    let s_h = 1.0 + 0.015 * c_bar_p * t;
    let r_t = -(2.0 * rad(d_theta)).sin() * r_c;
    ((dl / s_l).powi(2)
        + (dc / s_c).powi(2)
        + (d_big_h / s_h).powi(2)
        + r_t * (dc / s_c) * (d_big_h / s_h))
        .sqrt()
}

/// A kind of colour-vision deficiency, at full severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deficiency {
    /// No working long-wavelength (red) cones.
    Protanopia,
    /// No working medium-wavelength (green) cones, the most common kind.
    Deuteranopia,
}

impl Deficiency {
    /// Machado et al. (2009), severity 1.0, applied to linear RGB.
    fn matrix(self) -> [[f64; 3]; 3] {
        match self {
            Deficiency::Protanopia => [
                [0.152_286, 1.052_583, -0.204_868],
                [0.114_503, 0.786_281, 0.099_216],
                [-0.003_882, -0.048_116, 1.051_998],
            ],
            Deficiency::Deuteranopia => [
                [0.367_322, 0.860_646, -0.227_968],
                [0.280_085, 0.672_501, 0.047_413],
                [-0.011_820, 0.042_940, 0.968_881],
            ],
        }
    }

    /// How `rgb` looks to a person with this deficiency.
    pub fn simulate(self, rgb: [u8; 3]) -> [u8; 3] {
        let linear_rgb = rgb.map(linear);
        let m = self.matrix();
        [0, 1, 2].map(|row| {
            encoded(
                m[row][0] * linear_rgb[0] + m[row][1] * linear_rgb[1] + m[row][2] * linear_rgb[2],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab3(l: f64, a: f64, b: f64) -> Lab {
        Lab { l, a, b }
    }

    #[test]
    fn ciede2000_matches_sharmas_published_pairs() {
        // Pairs 1, 2, 3, 7 and 25 of Sharma, Wu and Dalal's test data (2005).
        let pairs = [
            (
                lab3(50.0, 2.6772, -79.7751),
                lab3(50.0, 0.0, -82.7485),
                2.0425,
            ),
            (
                lab3(50.0, 3.1571, -77.2803),
                lab3(50.0, 0.0, -82.7485),
                2.8615,
            ),
            (
                lab3(50.0, 2.8361, -74.0200),
                lab3(50.0, 0.0, -82.7485),
                3.4412,
            ),
            (lab3(50.0, 0.0, 0.0), lab3(50.0, -1.0, 2.0), 2.3669),
            (
                lab3(60.2574, -34.0099, 36.2677),
                lab3(60.4626, -34.1751, 39.4387),
                1.2644,
            ),
        ];
        for (one, two, expected) in pairs {
            let d = ciede2000(one, two);
            assert!(
                (d - expected).abs() < 5e-4,
                "{one:?} {two:?}: {d} vs {expected}"
            );
            assert!((ciede2000(two, one) - d).abs() < 1e-9);
        }
    }

    #[test]
    fn lab_of_white_black_and_grey_is_neutral() {
        let white = lab([255, 255, 255]);
        assert!((white.l - 100.0).abs() < 0.01 && white.a.abs() < 0.01 && white.b.abs() < 0.01);
        assert!(lab([0, 0, 0]).l.abs() < 1e-9);
        assert!((lab([119, 119, 119]).l - 50.0).abs() < 0.5);
    }

    #[test]
    fn deuteranopia_brings_red_and_green_together_and_leaves_grey_alone() {
        let (red, green) = ([213, 94, 0], [0, 158, 115]);
        let normal = ciede2000(lab(red), lab(green));
        let seen = ciede2000(
            lab(Deficiency::Deuteranopia.simulate(red)),
            lab(Deficiency::Deuteranopia.simulate(green)),
        );
        assert!(seen < normal, "{seen} !< {normal}");
        let grey = [128, 128, 128];
        for d in [Deficiency::Protanopia, Deficiency::Deuteranopia] {
            let g = d.simulate(grey);
            assert!(g.iter().all(|&c| c.abs_diff(128) <= 1), "{g:?}");
        }
    }
}
