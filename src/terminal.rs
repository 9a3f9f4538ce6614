//! The terminal's input mode, where nemo changes it or must put it back:
//! [`Saved`] keeps the mode from before the interactive prompt took the
//! terminal (raw, bracketed paste) so that a signal ending the prompt can
//! restore it; [`EchoOff`] hides what is typed while a progress display
//! draws (else the text mixes into its line), the mode coming back when the
//! last display ends.
//!
//! Only stdin's terminal settings are touched, and only when stdin is a
//! terminal; everywhere else these do nothing. Nothing here prints but the
//! one escape sequence that turns bracketed paste off.

#[cfg(unix)]
use std::sync::Mutex;

#[cfg(unix)]
use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};

/// stdin's terminal mode, taken before someone changes it.
pub struct Saved {
    #[cfg(unix)]
    mode: Option<Termios>,
}

impl Saved {
    /// The mode now (nothing when stdin is not a terminal).
    pub fn now() -> Saved {
        Saved {
            #[cfg(unix)]
            mode: get_mode(),
        }
    }

    /// Puts the mode back and turns bracketed paste off (the prompt turns
    /// it on; a shell after nemo must not get its markers).
    pub fn restore(&self) {
        #[cfg(unix)]
        if let Some(mode) = &self.mode {
            set_mode(mode);
            use std::io::Write;
            let mut stdout = std::io::stdout();
            if std::io::IsTerminal::is_terminal(&stdout) {
                let _ = stdout.write_all(b"\x1b[?2004l");
                let _ = stdout.flush();
            }
        }
    }
}

#[cfg(unix)]
fn get_mode() -> Option<Termios> {
    let stdin = std::io::stdin();
    if !std::io::IsTerminal::is_terminal(&stdin) {
        return None;
    }
    tcgetattr(&stdin).ok()
}

#[cfg(unix)]
fn set_mode(mode: &Termios) {
    let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, mode);
}

/// Echo off on stdin's terminal while it lives. Displays may overlap: the
/// first one turns echo off, the last one to end puts the mode back.
#[derive(Debug)]
pub struct EchoOff {
    _private: (),
}

/// How many [`EchoOff`] live, and the mode from before the first.
#[cfg(unix)]
static ECHO: Mutex<(usize, Option<Termios>)> = Mutex::new((0, None));

impl EchoOff {
    pub fn new() -> EchoOff {
        #[cfg(unix)]
        {
            let mut echo = ECHO.lock().unwrap_or_else(|p| p.into_inner());
            if echo.0 == 0 {
                echo.1 = get_mode();
                if let Some(mode) = &echo.1 {
                    let mut quiet = mode.clone();
                    quiet.local_modes -= LocalModes::ECHO | LocalModes::ECHONL;
                    set_mode(&quiet);
                }
            }
            echo.0 += 1;
        }
        EchoOff { _private: () }
    }
}

impl Default for EchoOff {
    fn default() -> Self {
        EchoOff::new()
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            let mut echo = ECHO.lock().unwrap_or_else(|p| p.into_inner());
            echo.0 = echo.0.saturating_sub(1);
            if echo.0 == 0
                && let Some(mode) = echo.1.take()
            {
                set_mode(&mode);
            }
        }
    }
}
