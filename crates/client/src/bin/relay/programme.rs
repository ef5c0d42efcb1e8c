//! The monthly programme: points, rank, boards, the top ten, and the prize draw verified on
//! this device.

use clap::Subcommand;
use relay_client::{ClientError, Engine};
use relay_draw::pins::Witness;

use crate::print;

#[derive(Debug, Subcommand)]
pub enum DrawAction {
    /// Check a month's draw on this device: the commitment, the entry list, the beacon round's
    /// signature and the winners (exit 6 when it does not verify).
    Verify {
        /// `YYYY-MM`.
        month: String,
    },
    /// Leave a month's draw (before its entry list is frozen).
    OptOut { month: String },
    /// Enter it again.
    OptIn { month: String },
}

/// `relay programme`: points, rank, the boards and the top ten (the cache when offline).
pub async fn programme(
    engine: &Engine,
    json: bool,
    join_board: bool,
    pseudonym: Option<String>,
    leave_board: bool,
) -> Result<(), ClientError> {
    let view = if join_board || leave_board {
        engine.set_on_board(join_board, pseudonym).await?
    } else {
        engine.programme().await?
    };
    let Some(programme) = &view.programme else {
        return Err(ClientError::Offline(
            "the programme has not been fetched yet and the server cannot be reached".into(),
        ));
    };
    print(json, &view, |_| {
        let s = &programme.summary;
        let me = &s.me;
        if view.offline {
            println!(
                "Offline: as of {}.",
                programme.fetched_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        println!(
            "{}: {} points ({} all time), {} verified and {} declared shares, {} clicks.",
            me.month.month,
            me.points,
            me.all_time_points,
            me.verified_shares,
            me.declared_shares,
            me.clicks
        );
        match me.rank {
            Some(rank) if me.on_board => println!("Rank {rank} of {}.", me.ranked),
            Some(rank) => println!(
                "You would be {rank} of {} (you are not on the leaderboard).",
                me.ranked
            ),
            None => println!("No points yet this month."),
        }
        println!("Leaderboard:");
        for e in &s.board.entries {
            let you = if e.you { "  (you)" } else { "" };
            println!("  {:>3}. {} {}{you}", e.rank, e.name, e.points);
        }
        println!("Top ten:");
        for t in &s.top.items {
            match (t.verified_shares, t.clicks) {
                (Some(verified), Some(clicks)) => println!(
                    "  {:>3}. {} ({verified} verified shares, {clicks} clicks)",
                    t.rank, t.title
                ),
                // Fewer than five people shared it: its counts would describe them.
                _ => println!("  {:>3}. {}", t.rank, t.title),
            }
        }
    });
    Ok(())
}

/// `relay draw ...`.
pub async fn draw(engine: &Engine, json: bool, action: DrawAction) -> Result<bool, ClientError> {
    let check = match &action {
        DrawAction::Verify { month } => engine.draw(month).await?,
        DrawAction::OptOut { month } => engine.set_draw_opt_out(month, true).await?,
        DrawAction::OptIn { month } => engine.set_draw_opt_out(month, false).await?,
    };
    let verified = !matches!(check.verified, Some(Err(_))) && check.problem.is_none();
    print(json, &check, |c| {
        let d = &c.draw;
        if c.offline {
            println!("Offline: the draw as this device last saw it.");
        }
        println!("Draw of {}:", d.month);
        match &d.setup {
            Some(setup) => {
                for p in &setup.prizes {
                    println!("  prize: {} x{}", p.name, p.quantity);
                }
            }
            None => println!("  no prizes set yet"),
        }
        if d.opted_out {
            println!("You opted out of this draw.");
        }
        match &d.commitment {
            Some(cm) => {
                println!(
                    "Committed {}: seed hash {}, quicknet round {} (at {}), list frozen at {}.",
                    cm.committed_at.format("%Y-%m-%d %H:%M UTC"),
                    cm.seed_hash,
                    cm.beacon_round,
                    cm.beacon_round_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    cm.closes_at.format("%Y-%m-%d %H:%M UTC"),
                );
                println!("Commitment digest {}.", cm.digest);
            }
            None => println!("Not committed yet."),
        }
        if let Some(at) = c.commitment_seen_at {
            println!(
                "This device first saw the commitment at {}.",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
        if let Some(entries) = &d.entries {
            println!(
                "{} entries, list hash {}, frozen at {}.",
                entries.entries.len(),
                entries.list_hash,
                entries.frozen_at.format("%Y-%m-%d %H:%M:%S UTC")
            );
            match (c.witness, c.list_seen_at) {
                (Witness::BeforeRound, Some(at)) => println!(
                    "This device saw the list at {}, before the beacon round existed: nobody could then know who would win.",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                (Witness::AfterRound, Some(at)) => println!(
                    "This device first saw the list at {}, after the beacon round existed: it cannot vouch for the list's timing.",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                _ => {}
            }
            match &d.my_entry_id {
                Some(id) => println!("Your entry: {id}"),
                None => println!("You have no entry in this draw."),
            }
        }
        if let Some(result) = &d.result {
            for w in &result.winners {
                let you = if d.my_entry_id.as_deref() == Some(w.entry_id.as_str()) {
                    "  (you)"
                } else {
                    ""
                };
                println!("  {}: {} [{}]{you}", w.prize, w.name, w.entry_id);
            }
        }
        if let Some(problem) = &c.problem {
            println!("DOES NOT VERIFY: {problem}");
        }
        match &c.verified {
            Some(Ok(_)) => println!("Verified on this device."),
            Some(Err(why)) => println!("DOES NOT VERIFY: {why}"),
            None if c.problem.is_none() => println!("Not drawn yet: nothing to verify."),
            None => {}
        }
    });
    Ok(verified)
}
