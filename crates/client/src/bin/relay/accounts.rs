//! Connected social accounts.

use std::io::Read;

use clap::Subcommand;
use relay_client::{ClientError, Engine};
#[cfg(feature = "test-network")]
use relay_protocol::Network;

use crate::print;

#[derive(Debug, Subcommand)]
pub enum AccountAction {
    List,
    /// Connect a Bluesky account (the app password is read from standard input).
    AddBluesky {
        /// Handle (or e-mail address) of the account.
        #[arg(long)]
        handle: String,
        /// The hosting service where the account signs in.
        #[arg(long, default_value = relay_client::social::bluesky::DEFAULT_SERVICE)]
        service: String,
    },
    /// Disconnect an account: revoke its tokens where the network allows and forget them.
    Remove {
        id: String,
    },
    /// Connect an account of the HTTP test network (token read from standard input). Test
    /// builds only.
    #[cfg(feature = "test-network")]
    AddTest {
        #[arg(long)]
        network: Network,
        #[arg(long)]
        url: String,
        #[arg(long)]
        handle: String,
    },
}

pub async fn run(engine: &Engine, json: bool, action: AccountAction) -> Result<(), ClientError> {
    match action {
        AccountAction::List => {
            let accounts = engine.store().accounts()?;
            print(json, &accounts, |accounts| {
                for a in accounts {
                    println!("{}  {:<9} {:<20} {}", a.id, a.network, a.handle, a.status);
                }
            });
        }
        AccountAction::AddBluesky { handle, service } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let account = engine
                .connect_bluesky(&service, &handle, password.trim_end_matches(['\r', '\n']))
                .await?;
            print(json, &account, |a| {
                println!("connected {} as {} ({})", a.network, a.handle, a.id)
            });
        }
        AccountAction::Remove { id } => {
            engine.disconnect(&id).await?;
            print(json, &id, |id| println!("disconnected {id}"));
        }
        #[cfg(feature = "test-network")]
        AccountAction::AddTest {
            network,
            url,
            handle,
        } => {
            use relay_client::social::{account_secret, Provider};
            let mut token = String::new();
            std::io::stdin().read_to_string(&mut token)?;
            let account =
                engine
                    .store()
                    .add_account(network, Provider::Test, &handle, Some(&url))?;
            engine
                .secrets()
                .set(&account_secret(&account.id), token.trim())?;
            print(json, &account, |a| {
                println!("connected {} as {} ({})", a.network, a.handle, a.id)
            });
        }
    }
    Ok(())
}
