//! `relay-server programme`: the points rules from the command line.

use clap::Subcommand;

use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum ProgrammeCommand {
    /// Show the rules of a month, or set them from a month that has not begun
    /// (`--from-month 2027-01 --verified 10 --declared 3 --daily-cap 5 --click 1 --click-cap 20`;
    /// what is not given keeps the rules in force then).
    Rules {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        /// `YYYY-MM`: set the rules from this month on.
        #[arg(long)]
        from_month: Option<String>,
        #[arg(long)]
        verified: Option<u32>,
        #[arg(long)]
        declared: Option<u32>,
        #[arg(long)]
        daily_cap: Option<u32>,
        #[arg(long)]
        click: Option<u32>,
        #[arg(long)]
        click_cap: Option<u32>,
        /// Whether attested shares (X, LinkedIn: the device's word) count as verified.
        #[arg(long)]
        trust_attested: Option<bool>,
    },
}

pub async fn run(state: &AppState, command: ProgrammeCommand) -> anyhow::Result<()> {
    let ProgrammeCommand::Rules {
        org,
        from_month,
        verified,
        declared,
        daily_cap,
        click,
        click_cap,
        trust_attested,
    } = command;
    let org = crate::orgs::by_slug(&state.db, &org).await?;
    let mut conn = state.db.read.acquire().await?;
    let calendar =
        crate::programme::calendar::calendar_of(&mut conn, state.config.month_grace, &org.id)
            .await?;
    let month = match &from_month {
        Some(m) => crate::programme::calendar::Month::parse(m)?,
        None => calendar.month_of(chrono::Utc::now()),
    };
    let mut rules = crate::programme::rules_cache::rules_for(&mut conn, &org.id, month).await?;
    drop(conn);
    if from_month.is_some() {
        let given = [verified, declared, daily_cap, click, click_cap];
        anyhow::ensure!(
            given.iter().any(Option::is_some) || trust_attested.is_some(),
            "say which rules change (--verified, --declared, --daily-cap, --click, --click-cap, \
             --trust-attested)"
        );
        rules.trust_attested = trust_attested.unwrap_or(rules.trust_attested);
        rules.verified_share = verified.unwrap_or(rules.verified_share);
        rules.declared_share = declared.unwrap_or(rules.declared_share);
        rules.daily_cap = daily_cap.unwrap_or(rules.daily_cap);
        rules.click = click.unwrap_or(rules.click);
        rules.click_cap = click_cap.unwrap_or(rules.click_cap);
        let change = relay_protocol::RulesChange {
            from_month: month.to_string(),
            rules,
        };
        crate::programme::rules::set(state, &org.id, None, &change).await?;
        println!("rules set from {month}:");
    } else {
        println!("rules of {month}:");
    }
    println!(
        "  verified share {} points, declared share {}, at most {} scored shares a day,\n  \
         {} point a unique click, at most {} click points a share;\n  attested shares (X, LinkedIn) \
         count as {}",
        rules.verified_share,
        rules.declared_share,
        rules.daily_cap,
        rules.click,
        rules.click_cap,
        if rules.trust_attested {
            "verified (trusted)"
        } else {
            "declared"
        }
    );
    Ok(())
}
