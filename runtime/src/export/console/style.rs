//! Colour and text styles of the console tree.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

/// Colour on a terminal, unless `NO_COLOR` is set to something
/// (<https://no-color.org>).
pub(super) fn use_color(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

pub(super) fn guide() -> Style {
    Style::new().dimmed()
}
pub(super) fn name() -> Style {
    Style::new().bold()
}
pub(super) fn failure() -> Style {
    Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
}
pub(super) fn timeline() -> Style {
    Style::new().fg_color(Some(AnsiColor::Cyan.into()))
}

/// Writes text, styled when colour is on.
pub(super) struct Paint<'a> {
    pub(super) out: &'a mut String,
    pub(super) color: bool,
}

impl Paint<'_> {
    pub(super) fn put(&mut self, style: Style, text: &str) {
        if self.color && !style.is_plain() && !text.is_empty() {
            let _ = write!(self.out, "{}{text}{}", style.render(), style.render_reset());
        } else {
            self.out.push_str(text);
        }
    }

    pub(super) fn plain(&mut self, text: &str) {
        self.out.push_str(text);
    }
}
