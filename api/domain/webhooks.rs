//! Outgoing webhooks: the catalogue of event types an endpoint may subscribe to (each derived
//! from the activity kinds of `events::ActivityKind`, so a change is described once), the retry
//! schedule, and the address rule against server-side request forgery.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::domain::events::ActivityKind;
use crate::domain::scopes::Scope;

text_enum! {
    /// A webhook event type, as `<object>.<verb>`.
    pub enum WebhookEventType {
        InvoiceIssued = "invoice.issued",
        InvoicePaid = "invoice.paid",
        InvoiceRefunded = "invoice.refunded",
        PaymentSucceeded = "payment.succeeded",
        PaymentFailed = "payment.failed",
        PrepaidCredited = "prepaid.credited",
        PrepaidDebited = "prepaid.debited",
        ProductCreated = "product.created",
        ProductRenewed = "product.renewed",
        ProductExpired = "product.expired",
        ProductSuspended = "product.suspended",
        ProductCancelled = "product.cancelled",
        RenewalFailed = "renewal.failed",
        DomainTransferOutCodeSent = "domain.transfer_out.code_sent",
        DomainTransferOutRequested = "domain.transfer_out.requested",
        DomainTransferOutCompleted = "domain.transfer_out.completed",
        MemberJoined = "member.joined",
        MemberLeft = "member.left",
        MemberRoleChanged = "member.role_changed",
        OrganizationSecurityPolicyChanged = "organization.security_policy_changed",
    }
}

text_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// An attempt is due at `next_attempt_at`.
        Pending = "pending",
        /// The endpoint answered 2xx.
        Succeeded = "succeeded",
        /// Given up: 3 days of failures, or its endpoint was disabled.
        Failed = "failed",
    }
}

impl WebhookEventType {
    /// The token scope that reads what this event carries: a token may subscribe an endpoint
    /// only to the events it could read through the API itself.
    pub fn read_scope(self) -> Scope {
        match self.as_str().split('.').next().unwrap_or_default() {
            "invoice" | "payment" | "prepaid" | "renewal" => Scope::BillingRead,
            "product" => Scope::ProductsRead,
            "domain" => Scope::DomainsRead,
            _ => Scope::OrgsRead,
        }
    }

    /// The webhook event a recorded change publishes, if any.
    pub fn of_activity(kind: ActivityKind) -> Option<Self> {
        use ActivityKind as A;
        use WebhookEventType as W;
        Some(match kind {
            // Each of these issues an invoice (the order's, the renewals', the upgrade's).
            A::OrderCreated
            | A::RenewalOrdered
            | A::AutoRenewalOrdered
            | A::ProductUpgradeOrdered => W::InvoiceIssued,
            A::InvoicePaid => W::InvoicePaid,
            A::InvoiceRefunded => W::InvoiceRefunded,
            A::PaymentSucceeded => W::PaymentSucceeded,
            A::PaymentFailed => W::PaymentFailed,
            A::PrepaidToppedUp | A::ProFormaCredited => W::PrepaidCredited,
            A::PrepaidWithdrawn => W::PrepaidDebited,
            A::ProductExpired => W::ProductExpired,
            A::ProductSuspended => W::ProductSuspended,
            A::ProductCancelled => W::ProductCancelled,
            A::DomainTransferCodeSent => W::DomainTransferOutCodeSent,
            A::DomainTransferRequested => W::DomainTransferOutRequested,
            A::DomainTransferredOut => W::DomainTransferOutCompleted,
            A::MemberJoined => W::MemberJoined,
            A::MemberLeft | A::MemberRemoved => W::MemberLeft,
            A::MemberUpdated => W::MemberRoleChanged,
            A::OrganizationSecurityPolicyUpdated => W::OrganizationSecurityPolicyChanged,
            _ => return None,
        })
    }

    /// One line saying when the event is sent.
    pub fn description(self) -> &'static str {
        use WebhookEventType::*;
        match self {
            InvoiceIssued => "An invoice was issued (an order, a renewal or an upgrade to pay).",
            InvoicePaid => "An invoice was paid in full.",
            InvoiceRefunded => "An invoice was refunded, in part or in full.",
            PaymentSucceeded => "A payment succeeded.",
            PaymentFailed => "A payment failed.",
            PrepaidCredited => "Money was added to the prepaid account.",
            PrepaidDebited => "Money was withdrawn from the prepaid account.",
            ProductCreated => "A product was created by a paid order.",
            ProductRenewed => "A product's term was extended by a paid renewal.",
            ProductExpired => "A product reached its expiry unrenewed (grace period).",
            ProductSuspended => "An expired product's grace period ended: it is suspended.",
            ProductCancelled => "A product was cancelled.",
            RenewalFailed => "An automatic renewal's charge was declined or could not be made.",
            DomainTransferOutCodeSent => "A domain's transfer-out code was mailed to its owner.",
            DomainTransferOutRequested => "Another registrar asked for a domain with its code.",
            DomainTransferOutCompleted => "A domain left for another registrar.",
            MemberJoined => "A person joined the organisation.",
            MemberLeft => "A member left or was removed from the organisation.",
            MemberRoleChanged => "A member's role or permissions changed.",
            OrganizationSecurityPolicyChanged => "The organisation's security policy changed.",
        }
    }
}

/// Delays before each retry of a failed delivery (Standard Webhooks / Svix style): after the
/// first attempt 5 s, then 5 min, 30 min, 2 h, 5 h, then every 10 h, until the delivery is
/// 3 days old.
pub const RETRY_SCHEDULE_SECS: &[i64] = &[5, 300, 1800, 7200, 18000, 36000];
/// How long a delivery is retried.
pub const RETRY_WINDOW_SECS: i64 = 3 * 86_400;
/// How long an endpoint may fail before it is disabled.
pub const DISABLE_AFTER_SECS: i64 = 5 * 86_400;
/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_SECS: i64 = 86_400;

/// The delay before the retry following attempt number `attempts` (1-based).
pub fn retry_delay_secs(attempts: i32) -> i64 {
    let i = (attempts.max(1) - 1) as usize;
    RETRY_SCHEDULE_SECS[i.min(RETRY_SCHEDULE_SECS.len() - 1)]
}

/// Why an address may not be called, or None when it is a public unicast address.
/// `allow_loopback` (development only) lets loopback addresses through, and nothing else.
pub fn refused_address(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    if ip.is_loopback() {
        return (!allow_loopback).then_some("loopback");
    }
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("cloud metadata")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (CGNAT)")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() || a >= 240 || ip.is_broadcast() {
        Some("multicast or reserved")
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (b & 0xfe) == 18) {
        Some("reserved")
    } else if (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        Some("documentation")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("cloud metadata")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("unique local")
    } else if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if s[0] == 0x64 && s[1] == 0xff9b {
        Some("NAT64")
    } else if s[0] == 0x2001 && s[1] == 0xdb8 {
        Some("documentation")
    } else if s[0] == 0x2002 {
        // 6to4: the IPv4 address it tunnels to is in segments 1 and 2.
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        refused_v4(v4).or_else(|| v4.is_loopback().then_some("loopback"))
    } else if s[0] == 0x2001 && s[1] == 0 {
        // Teredo: reaches an IPv4 host through a relay, hiding which.
        Some("Teredo")
    } else if s[..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0 {
        // IPv4-translated (::ffff:0:a.b.c.d).
        Some("reserved")
    } else if s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0 {
        // IPv4-compatible (deprecated) addresses.
        Some("reserved")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for raw in [
            "10.0.0.1",
            "172.16.3.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            // Tunnels to private IPv4 hosts: 6to4, Teredo, IPv4-translated.
            "2002:a00:1::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::ffff:0:a00:1",
        ] {
            let ip: IpAddr = raw.parse().unwrap();
            assert!(
                refused_address(ip, false).is_some(),
                "{raw} must be refused"
            );
        }
        for raw in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "100.128.0.1",
            "2002:101:101::1",
        ] {
            let ip: IpAddr = raw.parse().unwrap();
            assert_eq!(refused_address(ip, false), None, "{raw} is public");
        }
    }

    #[test]
    fn the_development_setting_lets_loopback_only_through() {
        for raw in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(refused_address(raw.parse().unwrap(), true), None, "{raw}");
        }
        for raw in [
            "10.0.0.1",
            "169.254.169.254",
            "fd00:ec2::254",
            "2002:a00:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::ffff:0:a00:1",
            "192.168.0.1",
        ] {
            assert!(
                refused_address(raw.parse().unwrap(), true).is_some(),
                "{raw}"
            );
        }
    }

    #[test]
    fn the_retry_schedule_goes_from_5_seconds_to_10_hours() {
        let delays: Vec<i64> = (1..=8).map(retry_delay_secs).collect();
        assert_eq!(delays, [5, 300, 1800, 7200, 18000, 36000, 36000, 36000]);
    }

    #[test]
    fn every_webhook_event_type_comes_from_an_activity_kind_or_is_emitted_directly() {
        let derived: std::collections::HashSet<_> = ActivityKind::ALL
            .iter()
            .filter_map(|k| WebhookEventType::of_activity(*k))
            .collect();
        for t in WebhookEventType::ALL {
            let direct = matches!(
                t,
                WebhookEventType::ProductCreated
                    | WebhookEventType::ProductRenewed
                    | WebhookEventType::RenewalFailed
            );
            assert!(derived.contains(t) || direct, "{t} is never sent");
        }
    }
}
