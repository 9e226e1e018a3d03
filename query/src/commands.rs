//! The query commands. (Being written.)

use crate::exit::Exit;
use crate::output::Out;
use anyhow::{bail, Result};
use rusqlite::Connection;
use std::path::PathBuf;

pub fn open(path: PathBuf) -> Result<Connection> {
    Ok(iamref_dataset::db::open_read_only(&path)?)
}

macro_rules! args {
    ($($name:ident),*) => {$(
        #[derive(clap::Args)]
        pub struct $name {
            pub names: Vec<String>,
        }
    )*};
}
args!(
    ActionArgs,
    CheckArgs,
    ActionsArgs,
    ExpandArgs,
    ServiceArgs,
    ResourceTypeArgs,
    ConditionKeyArgs,
    ArnArgs,
    SqlArgs
);

macro_rules! todo_cmd {
    ($($f:ident : $a:ty),*) => {$(
        pub fn $f(_c: &Connection, _a: $a, _o: &mut Out) -> Result<Exit> { bail!("not yet") }
    )*};
}
todo_cmd!(action: ActionArgs, check: CheckArgs, actions: ActionsArgs, expand: ExpandArgs, service: ServiceArgs,
    resource_type: ResourceTypeArgs, condition_key: ConditionKeyArgs, arn: ArnArgs, sql: SqlArgs);
pub fn services(_c: &Connection, _o: &mut Out) -> Result<Exit> {
    bail!("not yet")
}
