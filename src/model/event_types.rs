//! The closed vocabularies of the API: custom event types and action source types (Meta's
//! `customconversions` reference) and the standard pixel events with the custom event type each
//! maps to (Meta's standard events table).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A text outside one of the closed vocabularies; `Display` lists the values allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of {}", .allowed.join(", "))]
pub struct UnknownValue {
    /// The text as given.
    pub(crate) value: String,
    /// Every value of the vocabulary, in the order the API documents them.
    pub(crate) allowed: Vec<&'static str>,
}

macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order the API documents them.
            pub(crate) const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling the API uses.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownValue {
                        value: s.to_string(),
                        allowed: $name::ALL.iter().map(|v| v.as_str()).collect(),
                    })
            }
        }
    };
}

api_enum! {
    /// `custom_event_type` of a custom conversion (Meta's `customconversions` reference).
    CustomEventType {
        AddPaymentInfo = "ADD_PAYMENT_INFO",
        AddToCart = "ADD_TO_CART",
        AddToWishlist = "ADD_TO_WISHLIST",
        CompleteRegistration = "COMPLETE_REGISTRATION",
        ContentView = "CONTENT_VIEW",
        InitiatedCheckout = "INITIATED_CHECKOUT",
        Lead = "LEAD",
        Purchase = "PURCHASE",
        Search = "SEARCH",
        Contact = "CONTACT",
        CustomizeProduct = "CUSTOMIZE_PRODUCT",
        Donate = "DONATE",
        FindLocation = "FIND_LOCATION",
        Schedule = "SCHEDULE",
        StartTrial = "START_TRIAL",
        SubmitApplication = "SUBMIT_APPLICATION",
        Subscribe = "SUBSCRIBE",
        ListingInteraction = "LISTING_INTERACTION",
        FacebookSelected = "FACEBOOK_SELECTED",
        Other = "OTHER",
    }
}

api_enum! {
    /// `action_source_type` of a custom conversion (Meta's `customconversions` reference).
    ActionSourceType {
        App = "app",
        Chat = "chat",
        Email = "email",
        Other = "other",
        PhoneCall = "phone_call",
        PhysicalStore = "physical_store",
        SystemGenerated = "system_generated",
        Website = "website",
        BusinessMessaging = "business_messaging",
    }
}

/// Standard pixel events (Meta's standard events table) and the custom event type a conversion
/// on them should have. `InitiateCheckout` and `ViewContent` map to the custom-conversion
/// spellings `INITIATED_CHECKOUT` and `CONTENT_VIEW` (Meta's `customconversions` reference),
/// which differ from the promoted-object ones.
pub(crate) const STANDARD_EVENTS: &[(&str, CustomEventType)] = &[
    ("AddPaymentInfo", CustomEventType::AddPaymentInfo),
    ("AddToCart", CustomEventType::AddToCart),
    ("AddToWishlist", CustomEventType::AddToWishlist),
    (
        "CompleteRegistration",
        CustomEventType::CompleteRegistration,
    ),
    ("Contact", CustomEventType::Contact),
    ("CustomizeProduct", CustomEventType::CustomizeProduct),
    ("Donate", CustomEventType::Donate),
    ("FindLocation", CustomEventType::FindLocation),
    ("InitiateCheckout", CustomEventType::InitiatedCheckout),
    ("Lead", CustomEventType::Lead),
    ("Purchase", CustomEventType::Purchase),
    ("Schedule", CustomEventType::Schedule),
    ("Search", CustomEventType::Search),
    ("StartTrial", CustomEventType::StartTrial),
    ("SubmitApplication", CustomEventType::SubmitApplication),
    ("Subscribe", CustomEventType::Subscribe),
    ("ViewContent", CustomEventType::ContentView),
];

/// The custom event type a standard event maps to, by its exact (case-sensitive) name.
pub(crate) fn standard_event_type(event_name: &str) -> Option<CustomEventType> {
    STANDARD_EVENTS
        .iter()
        .find(|(name, _)| *name == event_name)
        .map(|(_, t)| *t)
}

/// The standard event a misspelling (wrong case, `_`/`-`/space) most likely meant.
pub(crate) fn misspelled_standard_event(event_name: &str) -> Option<&'static str> {
    let folded: String = event_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    STANDARD_EVENTS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name != event_name && name.to_ascii_lowercase() == folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_api_spelling() {
        for t in CustomEventType::ALL {
            assert_eq!(t.as_str().parse::<CustomEventType>().unwrap(), *t);
        }
        assert!("purchase".parse::<CustomEventType>().is_err());
        assert_eq!(
            "website".parse::<ActionSourceType>().unwrap(),
            ActionSourceType::Website
        );
    }

    #[test]
    fn standard_events_and_misspellings() {
        assert_eq!(
            standard_event_type("Purchase"),
            Some(CustomEventType::Purchase)
        );
        assert_eq!(
            standard_event_type("ViewContent"),
            Some(CustomEventType::ContentView)
        );
        assert_eq!(misspelled_standard_event("purchase"), Some("Purchase"));
        assert_eq!(misspelled_standard_event("add_to_cart"), Some("AddToCart"));
        assert_eq!(misspelled_standard_event("Purchase"), None);
        assert_eq!(misspelled_standard_event("item-sold"), None);
    }
}
