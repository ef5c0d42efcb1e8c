//! The monthly prize draw, run so that nobody, the server's operator included, can steer it
//! (`relay-draw` holds the algorithm and the checks every verifier runs; `docs/draw.md` the
//! specification). Admins set the prizes and who is eligible, then commit before the month
//! closes: a secret seed's hash, a beacon round far enough after the close for devices to see
//! the entry list first, the prizes and the rule, all bound by one digest. At the close the
//! clock freezes the entry list (random pseudonymous ids) and announces it to devices at once;
//! once the round is out, the server fetches it (or an admin pastes it), checks its signature,
//! picks the winners and reveals the seed.

pub mod beacon;
pub mod clock;
pub mod routes;
pub mod settings;
pub mod store;

pub use beacon::BeaconConfig;
