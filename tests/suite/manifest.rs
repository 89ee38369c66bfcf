//! Manifests: `convctl validate` end to end on the examples and on small manifests (exit codes,
//! output formats, warnings), the broken-manifest corpus (`corpus`), damaged manifests
//! (`fuzz`), property tests of the loader and the rule parser (`properties`), `schema.json`
//! (`schema`), and the `validate` benchmark (`bench`, ignored).

mod bench;
mod corpus;
mod editor;
mod fuzz;
mod properties;
mod schema;
mod schema_strictness;

use crate::assert_run;
use crate::support::Convctl;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn examples_are_valid_and_their_tests_pass() {
    for format in ["text", "json", "github"] {
        let out = Convctl::new()
            .current_dir(root())
            .args(&["validate", "examples/conversions", "--format", format])
            .run();
        assert_eq!(out.code, 0, "validate --format {format}: {}", out.stderr);
        let out = Convctl::new()
            .current_dir(root())
            .args(&["test", "examples/conversions", "--format", format])
            .run();
        assert_eq!(out.code, 0, "test --format {format}: {}", out.stdout);
    }
    let out = Convctl::new()
        .current_dir(root())
        .args(&["validate", "examples/conversions", "--format", "json"])
        .run();
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    {
      "accounts": 8,
      "conversions": 24,
      "diagnostics": [],
      "errors": 0,
      "files": 4,
      "valid": true,
      "warnings": 0
    }
    ----- stderr -----
    "#);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["warnings"], 0, "examples are lint-free: {doc}");
    assert!(doc["accounts"].as_u64().unwrap() >= 5);
    let out = Convctl::new()
        .current_dir(root())
        .args(&["test", "examples/conversions", "--format", "json"])
        .run();
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    {
      "conversions_without_tests": 0,
      "diagnostics": [],
      "failed": 0,
      "passed": true,
      "results": [
        {
          "account": "act_3100000001",
          "column": 15,
          "conditions": [],
          "conversion": "Cake order",
          "error": null,
          "event": {
            "category": "Birthday Cakes",
            "event": "Purchase"
          },
          "expect": "match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 16,
          "passed": true
        },
        {
          "account": "act_3100000001",
          "column": 18,
          "conditions": [],
          "conversion": "Cake order",
          "error": null,
          "event": {
            "category": "bread",
            "event": "Purchase"
          },
          "expect": "no_match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 17,
          "passed": true
        },
        {
          "account": "act_3100000001",
          "column": 15,
          "conditions": [],
          "conversion": "Store locator",
          "error": null,
          "event": {
            "url": "https://bakery.example/Stores/berlin"
          },
          "expect": "match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 22,
          "passed": true
        },
        {
          "account": "act_3100000001",
          "column": 18,
          "conditions": [],
          "conversion": "Store locator",
          "error": null,
          "event": {
            "url": "https://bakery.example/"
          },
          "expect": "no_match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 23,
          "passed": true
        },
        {
          "account": "act_3100000002",
          "column": 15,
          "conditions": [],
          "conversion": "Trial membership",
          "error": null,
          "event": {
            "event": "StartTrial",
            "plan": "monthly"
          },
          "expect": "match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 36,
          "passed": true
        },
        {
          "account": "act_3100000002",
          "column": 18,
          "conditions": [],
          "conversion": "Trial membership",
          "error": null,
          "event": {
            "event": "StartTrial",
            "plan": "corporate"
          },
          "expect": "no_match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 37,
          "passed": true
        },
        {
          "account": "act_3100000002",
          "column": 56,
          "conditions": [],
          "conversion": "Trial membership",
          "error": null,
          "event": {
            "event": "StartTrial"
          },
          "expect": "no_match",
          "file": "examples/conversions/agency.yaml",
          "index": 1,
          "line": 37,
          "passed": true
        },
        {
          "account": "act_3100000002",
          "column": 15,
          "conditions": [],
          "conversion": "Annual plan purchase",
          "error": null,
          "event": {
            "currency": "EUR",
            "event": "Subscribe",
            "value": 399
          },
          "expect": "match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 47,
          "passed": true
        },
        {
          "account": "act_3100000002",
          "column": 18,
          "conditions": [],
          "conversion": "Annual plan purchase",
          "error": null,
          "event": {
            "currency": "USD",
            "event": "Subscribe",
            "value": 399
          },
          "expect": "no_match",
          "file": "examples/conversions/agency.yaml",
          "index": 0,
          "line": 48,
          "passed": true
        },
        {
          "account": "act_3100000002",
          "column": 65,
          "conditions": [],
          "conversion": "Annual plan purchase",
          "error": null,
          "event": {
            "currency": "EUR",
            "event": "Subscribe",
            "value": 29.9
          },
          "expect": "no_match",
          "file": "examples/conversions/agency.yaml",
          "index": 1,
          "line": 48,
          "passed": true
        },
        {
          "account": "act_3200000001",
          "column": 15,
          "conditions": [],
          "conversion": "Purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "url": "https://shop-one.example/thank-you?order=1"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 15,
          "passed": true
        },
        {
          "account": "act_3200000001",
          "column": 18,
          "conditions": [],
          "conversion": "Purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "url": "https://elsewhere.example/thank-you"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 16,
          "passed": true
        },
        {
          "account": "act_3200000001",
          "column": 15,
          "conditions": [],
          "conversion": "Lead (shop-one.example)",
          "error": null,
          "event": {
            "event": "Lead",
            "url": "https://shop-one.example/contact"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 22,
          "passed": true
        },
        {
          "account": "act_3200000001",
          "column": 18,
          "conditions": [],
          "conversion": "Lead (shop-one.example)",
          "error": null,
          "event": {
            "event": "Purchase"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 23,
          "passed": true
        },
        {
          "account": "act_3200000001",
          "column": 15,
          "conditions": [],
          "conversion": "Checkout started",
          "error": null,
          "event": {
            "url": "https://shop-one.example/Checkout/step-1"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 28,
          "passed": true
        },
        {
          "account": "act_3200000001",
          "column": 18,
          "conditions": [],
          "conversion": "Checkout started",
          "error": null,
          "event": {
            "url": "https://shop-one.example/cart"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 29,
          "passed": true
        },
        {
          "account": "act_3200000002",
          "column": 15,
          "conditions": [],
          "conversion": "Newsletter signup",
          "error": null,
          "event": {
            "url": "https://shop-two.example/newsletter/thanks"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 53,
          "passed": true
        },
        {
          "account": "act_3200000002",
          "column": 18,
          "conditions": [],
          "conversion": "Newsletter signup",
          "error": null,
          "event": {
            "url": "https://shop-two.example/newsletter"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 54,
          "passed": true
        },
        {
          "account": "act_3200000002",
          "column": 15,
          "conditions": [],
          "conversion": "Purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "url": "https://shop-two.example/thank-you?order=1"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 15,
          "passed": true
        },
        {
          "account": "act_3200000002",
          "column": 18,
          "conditions": [],
          "conversion": "Purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "url": "https://elsewhere.example/thank-you"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 16,
          "passed": true
        },
        {
          "account": "act_3200000002",
          "column": 15,
          "conditions": [],
          "conversion": "Lead (shop-two.example)",
          "error": null,
          "event": {
            "event": "Lead",
            "url": "https://shop-two.example/contact"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 22,
          "passed": true
        },
        {
          "account": "act_3200000002",
          "column": 18,
          "conditions": [],
          "conversion": "Lead (shop-two.example)",
          "error": null,
          "event": {
            "event": "Purchase"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 23,
          "passed": true
        },
        {
          "account": "act_3200000003",
          "column": 15,
          "conditions": [],
          "conversion": "Purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "url": "https://shop-three.example/thank-you?order=1"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 15,
          "passed": true
        },
        {
          "account": "act_3200000003",
          "column": 18,
          "conditions": [],
          "conversion": "Purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "url": "https://elsewhere.example/thank-you"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 16,
          "passed": true
        },
        {
          "account": "act_3200000003",
          "column": 15,
          "conditions": [],
          "conversion": "Lead (shop-three.example)",
          "error": null,
          "event": {
            "event": "Lead",
            "url": "https://shop-three.example/contact"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 22,
          "passed": true
        },
        {
          "account": "act_3200000003",
          "column": 18,
          "conditions": [],
          "conversion": "Lead (shop-three.example)",
          "error": null,
          "event": {
            "event": "Purchase"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 23,
          "passed": true
        },
        {
          "account": "act_3200000003",
          "column": 15,
          "conditions": [],
          "conversion": "Checkout started",
          "error": null,
          "event": {
            "url": "https://shop-three.example/Checkout/step-1"
          },
          "expect": "match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 28,
          "passed": true
        },
        {
          "account": "act_3200000003",
          "column": 18,
          "conditions": [],
          "conversion": "Checkout started",
          "error": null,
          "event": {
            "url": "https://shop-three.example/cart"
          },
          "expect": "no_match",
          "file": "examples/conversions/fleet.yaml",
          "index": 0,
          "line": 29,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Qualified B2B lead",
          "error": null,
          "event": {
            "company_size": 250,
            "email_domain": "acme.example",
            "event": "Lead",
            "form_type": "b2b"
          },
          "expect": "match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 22,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Qualified B2B lead",
          "error": null,
          "event": {
            "company_size": "50",
            "email_domain": "bigco.example",
            "event": "Lead",
            "form_type": "b2b"
          },
          "expect": "match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 1,
          "line": 23,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Qualified B2B lead",
          "error": null,
          "event": {
            "company_size": 250,
            "email_domain": "acme.example",
            "event": "Lead",
            "form_type": "b2c"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 25,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Qualified B2B lead",
          "error": null,
          "event": {
            "company_size": 10,
            "email_domain": "acme.example",
            "event": "Lead",
            "form_type": "b2b"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 1,
          "line": 26,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Qualified B2B lead",
          "error": null,
          "event": {
            "company_size": 250,
            "email_domain": "sales.Competitor.example",
            "event": "Lead",
            "form_type": "b2b"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 2,
          "line": 27,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Qualified B2B lead",
          "error": null,
          "event": {
            "company_size": 250,
            "event": "Lead",
            "form_type": "b2b"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 3,
          "line": 28,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Demo request",
          "error": null,
          "event": {
            "event": "Schedule"
          },
          "expect": "match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 40,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Demo request",
          "error": null,
          "event": {
            "event": "Lead",
            "lead_source": "Website-DEMO-form"
          },
          "expect": "match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 1,
          "line": 41,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Demo request",
          "error": null,
          "event": {
            "event": "Lead",
            "lead_source": "newsletter"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 43,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Campaign landing pages",
          "error": null,
          "event": {
            "url": "https://leads.example/lp/spring24"
          },
          "expect": "match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 52,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Campaign landing pages",
          "error": null,
          "event": {
            "url": "https://www.leads.example/lp/winter25/?utm_source=meta"
          },
          "expect": "match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 1,
          "line": 53,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Campaign landing pages",
          "error": null,
          "event": {
            "url": "https://leads.example/lp/spring"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 55,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Campaign landing pages",
          "error": null,
          "event": {
            "url": "https://leads.example/lp/spring2024"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 1,
          "line": 56,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 11,
          "conditions": [],
          "conversion": "Campaign landing pages",
          "error": null,
          "event": {
            "url": "https://evil.example/?next=https://leads.example/lp/spring24"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 2,
          "line": 57,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 15,
          "conditions": [],
          "conversion": "Newsletter sign-up",
          "error": null,
          "event": {
            "event": "CompleteRegistration",
            "list": "newsletter"
          },
          "expect": "match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 63,
          "passed": true
        },
        {
          "account": "act_2233445566",
          "column": 18,
          "conditions": [],
          "conversion": "Newsletter sign-up",
          "error": null,
          "event": {
            "event": "CompleteRegistration",
            "list": "Newsletter"
          },
          "expect": "no_match",
          "file": "examples/conversions/leadgen.yaml",
          "index": 0,
          "line": 64,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "currency": "EUR",
            "event": "Purchase",
            "value": 150
          },
          "expect": "match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 21,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "value": "100.01"
          },
          "expect": "match",
          "file": "examples/conversions/shop.yaml",
          "index": 1,
          "line": 22,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "value": 50
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 24,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "value": 100
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 1,
          "line": 25,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "event": "Lead",
            "value": 500
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 2,
          "line": 26,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "event": "Purchase"
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 3,
          "line": 27,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "Thank you page",
          "error": null,
          "event": {
            "url": "https://shop.example/checkout/ThankYou.html?order=991"
          },
          "expect": "match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 36,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "Thank you page",
          "error": null,
          "event": {
            "url": "https://shop.example/confirmation.html"
          },
          "expect": "match",
          "file": "examples/conversions/shop.yaml",
          "index": 1,
          "line": 37,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "Thank you page",
          "error": null,
          "event": {
            "url": "https://shop.example/cart"
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 39,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 15,
          "conditions": [],
          "conversion": "Checkout (revenue critical)",
          "error": null,
          "event": {
            "url": "https://shop.example/Checkout/step-1"
          },
          "expect": "match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 46,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 18,
          "conditions": [],
          "conversion": "Checkout (revenue critical)",
          "error": null,
          "event": {
            "url": "https://shop.example/cart"
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 47,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 15,
          "conditions": [],
          "conversion": "Add to cart of shoes",
          "error": null,
          "event": {
            "content_ids": [
              "SKU-1",
              "SKU-2"
            ],
            "event": "AddToCart",
            "url": "https://shop.example/shoes/runner-2"
          },
          "expect": "match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 58,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "Add to cart of shoes",
          "error": null,
          "event": {
            "content_ids": [
              "GIFTCARD"
            ],
            "event": "AddToCart",
            "url": "https://shop.example/shoes/runner-2"
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 0,
          "line": 60,
          "passed": true
        },
        {
          "account": "act_1234567890",
          "column": 11,
          "conditions": [],
          "conversion": "Add to cart of shoes",
          "error": null,
          "event": {
            "event": "AddToCart",
            "url": "https://shop.example/bags/tote"
          },
          "expect": "no_match",
          "file": "examples/conversions/shop.yaml",
          "index": 1,
          "line": 61,
          "passed": true
        }
      ],
      "total": 58
    }
    ----- stderr -----
    "#);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["failed"], 0);
    assert!(doc["total"].as_u64().unwrap() >= 30, "{doc}");
    assert_eq!(
        doc["conversions_without_tests"], 0,
        "every example conversion has tests"
    );
}

#[test]
fn warnings_do_not_fail_validation_and_missing_paths_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yml"),
        "account: 1\nconversions:\n  - {name: A, custom_event_type: LEAD, default_conversion_value: 2.5, rule: {and: [{event: {eq: lead}}, {url: {i_contains: /x}}]}}\n",
    )
    .unwrap();
    // Default path: conversions/.
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate"])
        .run();
    assert_run!(out, @"
    success: true
    exit_code: 0
    ----- stdout -----
    valid: 1 file, 1 account, 1 conversion (2 warnings)
    ----- stderr -----
    conversions/a.yml:3:66: warning: default_conversion_value 2.5 is fractional; the API documents it as an integer on reads
      |
    3 |   - {name: A, custom_event_type: LEAD, default_conversion_value: 2.5, rule: {and: [{event: {eq: lead}}, {url: {i_contains: /x}}]}}
      |                                                                  ^^^
    help: it may come back rounded and show as a change on every plan; use a whole number
    conversions/a.yml:3:93: warning: event `lead` looks like the standard event `Lead`, but event names are case-sensitive
      |
    3 |   - {name: A, custom_event_type: LEAD, default_conversion_value: 2.5, rule: {and: [{event: {eq: lead}}, {url: {i_contains: /x}}]}}
      |                                                                                             ^^
    help: write `Lead` if the pixel sends the standard event
    ");

    let stderr = out.stderr;
    assert!(
        stderr.contains(
            "conversions/a.yml:3:66: warning: default_conversion_value 2.5 is fractional"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: event `lead` looks like the standard event `Lead`"),
        "{stderr}"
    );

    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate", "nope/"])
        .run();
    assert_run!(out, @"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    error: cannot read `nope/`: No such file or directory (os error 2)
    help: pass a manifest file or a directory of *.yaml files (default: conversions/)
    ");
}

#[test]
fn github_warnings_and_accounts_declared_in_two_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        "account: act_7\nconversions:\n  - {name: A, custom_event_type: LEAD, default_conversion_value: 0.5, rule: {event: {eq: Lead}}}\n",
    )
    .unwrap();
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate", "--format", "github"])
        .run();
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    ::warning file=conversions/a.yaml,line=3,col=66,title=convctl::default_conversion_value 0.5 is fractional; the API documents it as an integer on reads%0Ahelp: it may come back rounded and show as a change on every plan; use a whole number
    ::warning file=conversions/a.yaml,line=3,col=77,title=convctl::the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")%0Ahelp: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    valid: 1 file, 1 account, 1 conversion (2 warnings)
    ----- stderr -----
    "#);

    let stdout = out.stdout;
    assert!(stdout.contains("::warning file=conversions/a.yaml,line=3,col=66,title=convctl::default_conversion_value 0.5 is fractional"), "{stdout}");
    std::fs::write(
        dir.path().join("conversions/b.yaml"),
        "account: \"7\"\nconversions: []\n",
    )
    .unwrap();
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate", "--format", "json"])
        .run();
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    {
      "accounts": 0,
      "conversions": 0,
      "diagnostics": [
        {
          "column": 66,
          "file": "conversions/a.yaml",
          "hint": "it may come back rounded and show as a change on every plan; use a whole number",
          "line": 3,
          "message": "default_conversion_value 0.5 is fractional; the API documents it as an integer on reads",
          "severity": "warning"
        },
        {
          "column": 77,
          "file": "conversions/a.yaml",
          "hint": "add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`",
          "line": 3,
          "message": "the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, \"A conversion rule is required at creation time\")",
          "severity": "warning"
        },
        {
          "column": 1,
          "file": "conversions/b.yaml",
          "hint": "declare each ad account in exactly one document; merge the two",
          "line": 1,
          "message": "account act_7 is declared twice: here and at conversions/a.yaml:1:1",
          "severity": "error"
        }
      ],
      "errors": 1,
      "files": 0,
      "valid": false,
      "warnings": 2
    }
    ----- stderr -----
    "#);

    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let errors: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{doc}");
    let d = errors[0];
    assert_eq!(d["file"], "conversions/b.yaml");
    assert_eq!(
        d["message"],
        "account act_7 is declared twice: here and at conversions/a.yaml:1:1"
    );
}
