//! Engine configuration.

use std::time::Duration;

use crate::avp::MAX_VALUE_LEN;
use crate::reliable::RetransmitConfig;

/// Settings of one L2TP endpoint (LNS, LAC, or both).
#[derive(Debug, Clone)]
pub struct Config {
    /// Host Name AVP we send (RFC 2661 §4.4.3); must not be empty.
    pub host_name: Vec<u8>,
    /// Vendor Name AVP; not sent when empty.
    pub vendor_name: Vec<u8>,
    pub firmware_revision: u16,
    /// Shared tunnel secret: enables tunnel authentication both ways and hidden AVPs.
    pub secret: Option<Vec<u8>>,
    /// Hide the proxy-authentication AVPs we send (needs `secret`).
    pub hide_avps: bool,
    /// Receive Window Size we advertise, and how far ahead we queue out-of-order messages.
    pub receive_window: u16,
    pub retransmit: RetransmitConfig,
    /// Send a HELLO after this long without hearing from the peer (RFC 2661 §6.5).
    pub hello_interval: Duration,
    /// Give up a tunnel or call whose setup (SCCCN, ICRP, ICCN) has not completed after
    /// this long, although our own messages were acknowledged.
    pub setup_timeout: Duration,
    /// Answer SCCRQ and ICRQ (the LNS role). A LAC-only engine sets this to false.
    pub accept_incoming: bool,
    pub max_tunnels: usize,
    pub max_sessions_per_tunnel: usize,
    /// Framing Capabilities AVP: bit 0 synchronous, bit 1 asynchronous.
    pub framing_capabilities: u32,
    /// Bearer Capabilities AVP (sent by the LAC only; 0 = not sent).
    pub bearer_capabilities: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host_name: b"l2tp".to_vec(),
            vendor_name: b"netedge".to_vec(),
            firmware_revision: 0x0100,
            secret: None,
            hide_avps: true,
            receive_window: 128,
            retransmit: RetransmitConfig::default(),
            hello_interval: Duration::from_secs(60),
            setup_timeout: Duration::from_secs(60),
            accept_incoming: true,
            max_tunnels: 65534,
            max_sessions_per_tunnel: 65534,
            framing_capabilities: 3,
            bearer_capabilities: 0,
        }
    }
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("host_name must be 1..={MAX_VALUE_LEN} bytes, got {0}")]
    HostName(usize),
    #[error("vendor_name must be at most {MAX_VALUE_LEN} bytes, got {0}")]
    VendorName(usize),
    #[error("secret must be 1..=256 bytes, got {0}")]
    Secret(usize),
    #[error("receive_window must be at least 1")]
    ReceiveWindow,
    #[error("retransmit.initial must be non-zero and not above retransmit.max (at most 1 h), max_retries at most 100")]
    Retransmit,
    #[error("{0} must be between 1 s and 1 day")]
    Interval(&'static str),
}

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.host_name.is_empty() || self.host_name.len() > MAX_VALUE_LEN {
            return Err(ConfigError::HostName(self.host_name.len()));
        }
        if self.vendor_name.len() > MAX_VALUE_LEN {
            return Err(ConfigError::VendorName(self.vendor_name.len()));
        }
        if let Some(s) = &self.secret {
            if s.is_empty() || s.len() > 256 {
                return Err(ConfigError::Secret(s.len()));
            }
        }
        if self.receive_window == 0 {
            return Err(ConfigError::ReceiveWindow);
        }
        let r = &self.retransmit;
        if r.initial.is_zero()
            || r.initial > r.max
            || r.max > Duration::from_secs(3600)
            || r.max_retries > 100
        {
            return Err(ConfigError::Retransmit);
        }
        // Bounded so that `now + interval` can never overflow an Instant.
        let sane = Duration::from_secs(1)..=Duration::from_secs(86_400);
        if !sane.contains(&self.hello_interval) {
            return Err(ConfigError::Interval("hello_interval"));
        }
        if !sane.contains(&self.setup_timeout) {
            return Err(ConfigError::Interval("setup_timeout"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unworkable_values() {
        assert_eq!(Config::default().validate(), Ok(()));
        let bad = |f: fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert_eq!(bad(|c| c.host_name.clear()), ConfigError::HostName(0));
        assert_eq!(bad(|c| c.secret = Some(vec![])), ConfigError::Secret(0));
        assert_eq!(bad(|c| c.receive_window = 0), ConfigError::ReceiveWindow);
        assert_eq!(
            bad(|c| c.retransmit.max_retries = 1000),
            ConfigError::Retransmit
        );
        assert_eq!(
            bad(|c| c.retransmit.initial = Duration::ZERO),
            ConfigError::Retransmit
        );
        assert_eq!(
            bad(|c| c.hello_interval = Duration::MAX),
            ConfigError::Interval("hello_interval")
        );
        assert_eq!(
            bad(|c| c.setup_timeout = Duration::ZERO),
            ConfigError::Interval("setup_timeout")
        );
    }
}
