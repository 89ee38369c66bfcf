//! Saved plans read as one: the shards of a CI matrix (`plan --shard K/N --out`) are one
//! change to review, so `convctl show` renders them as one document (one heading, one totals
//! line, one table). Accounts keep the order of the files and of each file; an account in two
//! files, or files made against different API versions, are refused: either would make the
//! totals say something no apply does.

use super::{PlanDocument, Summary};
use crate::model::ids::AdAccountId;
use std::collections::HashMap;
use std::path::PathBuf;

/// Why saved plans cannot be read as one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CombineError {
    #[error(
        "{account} is in two plans ({} and {}): each account belongs to one shard; make the plans again with one `--shard K/N` each",
        first.display(),
        second.display()
    )]
    AccountTwice {
        account: AdAccountId,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "the plans were made against different API versions ({first_version} in {}, {second_version} in {}); show them one at a time",
        first.display(),
        second.display()
    )]
    ApiVersions {
        first: PathBuf,
        first_version: String,
        second: PathBuf,
        second_version: String,
    },
}

impl PlanDocument {
    /// One document of every account of `plans` (each with the file it came from), in order;
    /// the summary counts them all. `None` for no plans at all.
    pub(crate) fn combine(
        plans: Vec<(PathBuf, PlanDocument)>,
    ) -> Result<Option<PlanDocument>, CombineError> {
        let mut seen: HashMap<AdAccountId, usize> = HashMap::new();
        let mut files: Vec<PathBuf> = Vec::with_capacity(plans.len());
        let mut combined: Option<PlanDocument> = None;
        for (file, doc) in plans {
            let index = files.len();
            files.push(file);
            let whole = combined.get_or_insert_with(|| PlanDocument {
                accounts: Vec::new(),
                ..doc.clone_head()
            });
            if whole.api_version != doc.api_version {
                return Err(CombineError::ApiVersions {
                    first: files[0].clone(),
                    first_version: whole.api_version.clone(),
                    second: files[index].clone(),
                    second_version: doc.api_version,
                });
            }
            // The shards' notices, each once (the API version's is in every shard).
            for notice in doc.notices {
                if !whole.notices.contains(&notice) {
                    whole.notices.push(notice);
                }
            }
            for account in doc.accounts {
                if let Some(&before) = seen.get(&account.account) {
                    return Err(CombineError::AccountTwice {
                        account: account.account,
                        first: files[before].clone(),
                        second: files[index].clone(),
                    });
                }
                seen.insert(account.account.clone(), index);
                whole.accounts.push(account);
            }
        }
        if let Some(whole) = &mut combined {
            whole.summary = Summary::of(&whole.accounts);
        }
        Ok(combined)
    }

    /// The document's versions, without its accounts.
    fn clone_head(&self) -> PlanDocument {
        PlanDocument {
            format_version: self.format_version,
            convctl_version: self.convctl_version.clone(),
            api_version: self.api_version.clone(),
            notices: Vec::new(),
            accounts: Vec::new(),
            summary: Summary::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AccountPlan, Action, ConversionState};

    fn account(id: &str, creates: usize) -> AccountPlan {
        AccountPlan {
            account: AdAccountId::parse(id).unwrap(),
            source: "a.yaml".into(),
            live_fingerprint: String::new(),
            digest: None,
            actions: (0..creates)
                .map(|i| Action::Create {
                    name: format!("c{i}"),
                    set: None,
                    set_entry: None,
                    after: ConversionState::default(),
                })
                .collect(),
            unmanaged: vec![],
            retired: vec![],
            warnings: vec![],
            refusals: vec![],
            info: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
        }
    }

    #[test]
    fn shards_read_as_one_document() {
        let a = PlanDocument::new("v26.0", vec![account("act_1", 1), account("act_2", 0)]);
        let b = PlanDocument::new("v26.0", vec![]);
        let c = PlanDocument::new("v26.0", vec![account("act_3", 1)]);
        let whole = PlanDocument::combine(vec![
            ("a.json".into(), a),
            ("b.json".into(), b),
            ("c.json".into(), c),
        ])
        .unwrap()
        .unwrap();
        let ids: Vec<String> = whole
            .accounts
            .iter()
            .map(|a| a.account.to_string())
            .collect();
        assert_eq!(ids, ["act_1", "act_2", "act_3"]);
        assert_eq!(whole.summary.create, 2);
    }

    /// The API version's notice is in every shard: the whole says it once; each shard's own
    /// (an account's paced writes) are kept, in order.
    #[test]
    fn each_notice_of_the_shards_once() {
        let mut a = PlanDocument::new("v26.0", vec![account("act_1", 1)]);
        a.notices = vec!["version".into(), "act_1 paced".into()];
        let mut b = PlanDocument::new("v26.0", vec![account("act_2", 1)]);
        b.notices = vec!["version".into(), "act_2 paced".into()];
        let whole = PlanDocument::combine(vec![("a.json".into(), a), ("b.json".into(), b)])
            .unwrap()
            .unwrap();
        assert_eq!(whole.notices, ["version", "act_1 paced", "act_2 paced"]);
    }

    #[test]
    fn an_account_in_two_plans_is_refused() {
        let a = PlanDocument::new("v26.0", vec![account("act_1", 1)]);
        let err = PlanDocument::combine(vec![("a.json".into(), a.clone()), ("b.json".into(), a)])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "act_1 is in two plans (a.json and b.json): each account belongs to one shard; make the plans again with one `--shard K/N` each"
        );
    }

    #[test]
    fn plans_of_two_api_versions_are_refused() {
        let a = PlanDocument::new("v26.0", vec![]);
        let b = PlanDocument::new("v25.0", vec![]);
        let err =
            PlanDocument::combine(vec![("a.json".into(), a), ("b.json".into(), b)]).unwrap_err();
        assert!(
            err.to_string().contains("v26.0 in a.json, v25.0 in b.json"),
            "{err}"
        );
    }
}
