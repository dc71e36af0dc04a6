//! The telnet layer (RFC 854): separates IAC commands from data, answers option negotiation,
//! and encodes output (IAC doubling, CR LF line ends).
//!
//! We offer ECHO (RFC 857) and SUPPRESS-GO-AHEAD (RFC 858) so the client sends characters one
//! at a time and leaves echoing to us, and ask for NAWS (RFC 1073) to learn the window size.
//! Everything else is refused. Option state follows RFC 854's loop rule: a request for the
//! mode an option is already in is not acknowledged, and a reply to our own request is not
//! answered again.

/// Interpret As Command.
pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
/// Subnegotiation begin.
pub const SB: u8 = 250;
pub const GA: u8 = 249;
/// Erase line.
pub const EL: u8 = 248;
/// Erase character.
pub const EC: u8 = 247;
/// Are you there.
pub const AYT: u8 = 246;
pub const AO: u8 = 245;
/// Interrupt process.
pub const IP: u8 = 244;
pub const BRK: u8 = 243;
pub const DM: u8 = 242;
pub const NOP: u8 = 241;
/// Subnegotiation end.
pub const SE: u8 = 240;

/// RFC 857.
pub const OPT_ECHO: u8 = 1;
/// RFC 858.
pub const OPT_SGA: u8 = 3;
/// RFC 1073.
pub const OPT_NAWS: u8 = 31;
/// RFC 1184.
pub const OPT_LINEMODE: u8 = 34;

/// Longest subnegotiation we keep; NAWS needs 5 bytes (option + 4), longer ones are for
/// options we refused anyway, so the rest is dropped rather than buffered.
const MAX_SB: usize = 16;

/// One side (ours or the peer's) of one option we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum OptState {
    #[default]
    Off,
    /// We asked (WILL or DO) and wait for the answer.
    Asked,
    On,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rx {
    Data,
    /// A CR was passed on; a following NUL or LF belongs to it (RFC 854's CR NUL / CR LF).
    AfterCr,
    Iac,
    Option(u8),
    Sb,
    SbIac,
}

/// Telnet decoder and option negotiator for one connection.
#[derive(Debug, Clone)]
pub struct Telnet {
    rx: Rx,
    sb: Vec<u8>,
    /// Our ECHO and SGA.
    echo: OptState,
    sga: OptState,
    /// The peer's NAWS.
    naws: OptState,
    window: Option<(u16, u16)>,
}

impl Default for Telnet {
    fn default() -> Self {
        Self::new()
    }
}

impl Telnet {
    pub fn new() -> Self {
        Telnet {
            rx: Rx::Data,
            sb: Vec::new(),
            echo: OptState::Off,
            sga: OptState::Off,
            naws: OptState::Off,
            window: None,
        }
    }

    /// The opening negotiation, sent once at connect: WILL ECHO, WILL SGA, DO NAWS.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        self.echo = OptState::Asked;
        self.sga = OptState::Asked;
        self.naws = OptState::Asked;
        out.extend_from_slice(&[IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, OPT_NAWS]);
    }

    /// Window width and height from the last NAWS subnegotiation (0 = unknown, RFC 1073).
    pub fn window_size(&self) -> Option<(u16, u16)> {
        self.window
    }

    /// Whether the peer agreed that we echo.
    pub fn echoing(&self) -> bool {
        self.echo == OptState::On
    }

    /// Decodes `input`: data bytes go to `data` (CR NUL and CR LF become one CR; IP, EC and
    /// EL become ^C, DEL and ^U so the line editor treats them like the keys), negotiation
    /// answers go to `replies`. Never produces more reply bytes than it consumed.
    pub fn receive(&mut self, input: &[u8], data: &mut Vec<u8>, replies: &mut Vec<u8>) {
        for &b in input {
            self.rx = match self.rx {
                Rx::Data | Rx::AfterCr if b == IAC => Rx::Iac,
                Rx::AfterCr if b == 0 || b == b'\n' => Rx::Data,
                Rx::Data | Rx::AfterCr => {
                    data.push(b);
                    if b == b'\r' {
                        Rx::AfterCr
                    } else {
                        Rx::Data
                    }
                }
                Rx::Iac => match b {
                    IAC => {
                        data.push(IAC);
                        Rx::Data
                    }
                    WILL | WONT | DO | DONT => Rx::Option(b),
                    SB => {
                        self.sb.clear();
                        Rx::Sb
                    }
                    IP => {
                        data.push(0x03);
                        Rx::Data
                    }
                    EC => {
                        data.push(0x7f);
                        Rx::Data
                    }
                    EL => {
                        data.push(0x15);
                        Rx::Data
                    }
                    // NOP, DM, BRK, AO, AYT, GA, a stray SE: nothing to do for a line editor.
                    _ => Rx::Data,
                },
                Rx::Option(verb) => {
                    self.negotiate(verb, b, replies);
                    Rx::Data
                }
                Rx::Sb if b == IAC => Rx::SbIac,
                Rx::Sb => {
                    self.sb_push(b);
                    Rx::Sb
                }
                Rx::SbIac => match b {
                    IAC => {
                        self.sb_push(IAC);
                        Rx::Sb
                    }
                    SE => {
                        self.subnegotiation();
                        Rx::Data
                    }
                    // RFC 854 leaves other commands inside SB undefined: end it there.
                    _ => Rx::Data,
                },
            };
        }
    }

    fn sb_push(&mut self, b: u8) {
        if self.sb.len() < MAX_SB {
            self.sb.push(b);
        }
    }

    fn subnegotiation(&mut self) {
        if let [OPT_NAWS, w0, w1, h0, h1] = self.sb[..] {
            self.window = Some((u16::from_be_bytes([w0, w1]), u16::from_be_bytes([h0, h1])));
        }
    }

    fn negotiate(&mut self, verb: u8, opt: u8, replies: &mut Vec<u8>) {
        let ours = match opt {
            OPT_ECHO => Some(&mut self.echo),
            OPT_SGA => Some(&mut self.sga),
            _ => None,
        };
        match verb {
            DO | DONT => match ours {
                Some(state) => {
                    let want = verb == DO;
                    let next = if want { OptState::On } else { OptState::Off };
                    // An answer to our WILL, or a request for the mode we are in: no reply.
                    if *state == OptState::Asked || (*state == OptState::On) == want {
                        *state = next;
                    } else {
                        *state = next;
                        replies.extend_from_slice(&[IAC, if want { WILL } else { WONT }, opt]);
                    }
                }
                // Refuse what we do not implement; DONT for it is already our mode.
                None if verb == DO => replies.extend_from_slice(&[IAC, WONT, opt]),
                None => {}
            },
            WILL | WONT => {
                let want = verb == WILL;
                if opt == OPT_NAWS {
                    let state = &mut self.naws;
                    let next = if want { OptState::On } else { OptState::Off };
                    if *state == OptState::Asked || (*state == OptState::On) == want {
                        *state = next;
                    } else {
                        *state = next;
                        replies.extend_from_slice(&[IAC, if want { DO } else { DONT }, opt]);
                    }
                } else if want {
                    replies.extend_from_slice(&[IAC, DONT, opt]);
                }
            }
            _ => {}
        }
    }
}

/// Appends `bytes` to `out` as telnet data: 0xFF doubled, LF sent as CR LF (a CR already in
/// front of the LF is kept single).
pub fn encode(bytes: &[u8], out: &mut Vec<u8>) {
    let mut prev = 0u8;
    for &b in bytes {
        match b {
            IAC => out.extend_from_slice(&[IAC, IAC]),
            b'\n' if prev != b'\r' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
        prev = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rx(t: &mut Telnet, input: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (mut d, mut r) = (Vec::new(), Vec::new());
        t.receive(input, &mut d, &mut r);
        (d, r)
    }

    #[test]
    fn start_offers_echo_sga_and_asks_naws() {
        let mut t = Telnet::new();
        let mut out = Vec::new();
        t.start(&mut out);
        assert_eq!(out, [IAC, WILL, 1, IAC, WILL, 3, IAC, DO, 31]);
    }

    #[test]
    fn answers_to_our_requests_are_not_acknowledged() {
        let mut t = Telnet::new();
        t.start(&mut Vec::new());
        let (d, r) = rx(&mut t, &[IAC, DO, 1, IAC, DO, 3, IAC, WILL, 31]);
        assert!(d.is_empty());
        assert!(r.is_empty());
        assert!(t.echoing());
        // Repeating the same requests changes nothing and is not answered (no loop).
        let (_, r) = rx(&mut t, &[IAC, DO, 1, IAC, WILL, 31]);
        assert!(r.is_empty());
    }

    #[test]
    fn mode_changes_after_agreement_are_acknowledged_once() {
        let mut t = Telnet::new();
        t.start(&mut Vec::new());
        rx(&mut t, &[IAC, DO, 1]);
        let (_, r) = rx(&mut t, &[IAC, DONT, 1]);
        assert_eq!(r, [IAC, WONT, 1]);
        let (_, r) = rx(&mut t, &[IAC, DONT, 1]);
        assert!(r.is_empty());
        let (_, r) = rx(&mut t, &[IAC, DO, 1]);
        assert_eq!(r, [IAC, WILL, 1]);
        let (_, r) = rx(&mut t, &[IAC, WILL, 31, IAC, WONT, 31]);
        assert_eq!(r, [IAC, DONT, 31]);
    }

    #[test]
    fn unknown_options_are_refused() {
        let mut t = Telnet::new();
        t.start(&mut Vec::new());
        let (_, r) = rx(
            &mut t,
            &[IAC, WILL, 24, IAC, DO, 5, IAC, WONT, 24, IAC, DONT, 5],
        );
        assert_eq!(r, [IAC, DONT, 24, IAC, WONT, 5]);
        let (_, r) = rx(&mut t, &[IAC, WILL, OPT_LINEMODE]);
        assert_eq!(r, [IAC, DONT, OPT_LINEMODE]);
    }

    #[test]
    fn naws_subnegotiation_sets_window_even_split() {
        let mut t = Telnet::new();
        let (d, _) = rx(&mut t, &[b'a', IAC, SB, 31, 0, 80, 0]);
        let (d2, _) = rx(&mut t, &[24, IAC, SE, b'b']);
        assert_eq!(d, b"a");
        assert_eq!(d2, b"b");
        assert_eq!(t.window_size(), Some((80, 24)));
        // 255 inside SB is doubled.
        rx(&mut t, &[IAC, SB, 31, 1, IAC, IAC, 0, 50, IAC, SE]);
        assert_eq!(t.window_size(), Some((511, 50)));
    }

    #[test]
    fn long_subnegotiation_is_bounded_and_ignored() {
        let mut t = Telnet::new();
        let mut input = vec![IAC, SB, 24];
        input.extend(std::iter::repeat_n(b'x', 10_000));
        input.extend([IAC, SE, b'z']);
        let (d, _) = rx(&mut t, &input);
        assert_eq!(d, b"z");
        assert!(t.sb.len() <= MAX_SB);
    }

    #[test]
    fn cr_nul_and_cr_lf_are_one_cr() {
        let mut t = Telnet::new();
        let (d, _) = rx(&mut t, b"a\r\0b\r\nc\rd\n");
        assert_eq!(d, b"a\rb\rc\rd\n");
        let (d, _) = rx(&mut t, b"\r");
        let (d2, _) = rx(&mut t, b"\n");
        assert_eq!((d.as_slice(), d2.as_slice()), (&b"\r"[..], &b""[..]));
    }

    #[test]
    fn iac_iac_is_data_and_commands_map_to_keys() {
        let mut t = Telnet::new();
        let (d, r) = rx(
            &mut t,
            &[IAC, IAC, IAC, IP, IAC, EC, IAC, EL, IAC, NOP, IAC, AYT],
        );
        assert_eq!(d, [0xff, 0x03, 0x7f, 0x15]);
        assert!(r.is_empty());
    }

    #[test]
    fn encode_doubles_iac_and_ends_lines_with_cr_lf() {
        let mut out = Vec::new();
        encode(b"a\nb\r\n\xff", &mut out);
        assert_eq!(out, b"a\r\nb\r\n\xff\xff");
    }
}
