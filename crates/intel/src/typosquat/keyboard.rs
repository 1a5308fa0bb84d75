//! Which keys sit next to each other: a slipped finger types a neighbour (`nfinx` for `nginx`).

use super::config::KeyboardRules;

/// Key positions of a staggered keyboard, by ASCII byte.
#[derive(Debug, Clone)]
pub(crate) struct Keyboard {
    /// (row, x in key widths) of every key on the layout.
    pos: Vec<Option<(usize, f64)>>,
}

impl Keyboard {
    pub(crate) fn new(rules: &KeyboardRules) -> Self {
        let mut pos = vec![None; 128];
        for (row, (keys, offset)) in rules.rows.iter().zip(&rules.offsets).enumerate() {
            for (i, key) in keys.bytes().enumerate() {
                if let Some(slot) = pos.get_mut(usize::from(key)) {
                    *slot = Some((row, *offset + i as f64));
                }
            }
        }
        Self { pos }
    }

    fn position(&self, key: u8) -> Option<(usize, f64)> {
        self.pos.get(usize::from(key)).copied().flatten()
    }

    /// Whether `a` and `b` are different keys that touch: one key apart on a row, or on
    /// neighbouring rows at most one key width apart (the stagger decides which ones).
    pub(crate) fn adjacent(&self, a: u8, b: u8) -> bool {
        let (Some((ra, xa)), Some((rb, xb))) = (self.position(a), self.position(b)) else {
            return false;
        };
        if a == b {
            return false;
        }
        let dx = (xa - xb).abs();
        match ra.abs_diff(rb) {
            0 => (dx - 1.0).abs() < 1e-9,
            1 => dx <= 1.0 + 1e-9,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typosquat::TyposquatConfig;

    #[test]
    fn qwerty_neighbours() {
        let k = Keyboard::new(&TyposquatConfig::builtin().unwrap().0.keyboard);
        for (a, b) in [
            (b'g', b'f'),
            (b'g', b't'),
            (b'g', b'y'),
            (b'g', b'v'),
            (b'g', b'b'),
            (b'q', b'a'),
            (b'o', b'i'),
            (b'o', b'0'),
            (b'd', b'e'),
        ] {
            assert!(k.adjacent(a, b), "{} {}", a as char, b as char);
            assert!(k.adjacent(b, a), "{} {}", b as char, a as char);
        }
        for (a, b) in [
            (b'g', b'g'),
            (b'g', b'r'),
            (b'g', b'n'),
            (b'q', b's'),
            (b'o', b'u'),
            (b'a', b'x'),
            (b'm', b'e'),
            (b'-', b'_'),
        ] {
            assert!(!k.adjacent(a, b), "{} {}", a as char, b as char);
        }
    }
}
