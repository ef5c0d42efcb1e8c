//! `relay-server scim`: the directory's bearer tokens, made, listed and revoked by an operator.

use clap::Subcommand;

use crate::db::Db;

#[derive(Debug, Subcommand)]
pub enum ScimCommand {
    /// Make a bearer token for the organisation's directory (shown once; stored hashed). Paste
    /// it with the tenant URL PUBLIC_URL/scim/v2 into the directory's provisioning settings.
    Token {
        #[arg(long)]
        org: String,
    },
    /// List the organisation's tokens: id, made, last used, revoked (never the secret).
    Tokens {
        #[arg(long)]
        org: String,
    },
    /// Revoke a token by its id: the directory's next request is refused.
    Revoke {
        #[arg(long)]
        org: String,
        id: String,
    },
}

pub async fn run(db: &Db, public_url: &str, command: ScimCommand) -> anyhow::Result<()> {
    match command {
        ScimCommand::Token { org } => {
            let org = crate::orgs::by_slug(db, &org).await?;
            let (id, secret) = super::tokens::create(db, &org.id).await?;
            println!("tenant URL:   {}/scim/v2", public_url.trim_end_matches('/'));
            println!("secret token: {secret}");
            println!(
                "token id:     {id} (relay-server scim revoke --org {} {id})",
                org.slug
            );
        }
        ScimCommand::Tokens { org } => {
            let org = crate::orgs::by_slug(db, &org).await?;
            for token in super::tokens::list(db, &org.id).await? {
                println!(
                    "{}  made {}  last used {}{}",
                    token.id,
                    token.created_at.to_rfc3339(),
                    token
                        .last_used_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "never".into()),
                    if token.revoked { "  REVOKED" } else { "" }
                );
            }
        }
        ScimCommand::Revoke { org, id } => {
            let org = crate::orgs::by_slug(db, &org).await?;
            anyhow::ensure!(
                super::tokens::revoke(db, &org.id, &id).await?,
                "no live token {id} in {}",
                org.slug
            );
            println!("revoked {id}");
        }
    }
    Ok(())
}
