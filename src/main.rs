//! The `portal` command line: server, migrator and admin tool in one binary.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use portal::commands::{self, Failure, finish};
use portal::config::Settings;
use portal::tenancy::TenantStatus;

#[derive(Parser)]
#[command(
    name = "portal",
    version,
    about = "Multi-province public-service portal"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database if missing, migrate, apply tenants/, serve and print the URLs.
    Up {
        /// Also create a demo operator and print how to sign in.
        #[arg(long)]
        demo: bool,
        /// Folder of province manifests.
        #[arg(long, default_value = "tenants")]
        tenants: PathBuf,
    },
    /// Serve only (expects a migrated database).
    Serve,
    /// Migrate the public schema, then every tenant schema.
    Migrate,
    /// One province.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Provinces declared in manifest files.
    Tenants {
        #[command(subcommand)]
        action: TenantsAction,
    },
    /// Accounts of a province: officials and admins (its own), or citizens (national).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Monthly invoices.
    Billing {
        #[command(subcommand)]
        action: BillingAction,
    },
    /// The operator's staff.
    Operator {
        #[command(subcommand)]
        action: OperatorAction,
    },
    /// Merge and rename provinces by a plan file (TOML).
    Reorganise {
        plan: PathBuf,
        /// Print what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: preview on these provinces' exports (files or folders of
        /// `tenant export` files), loaded into a scratch database; the live one is not touched.
        #[arg(long, requires = "dry_run", num_args = 1.., value_name = "FILE_OR_DIR")]
        on_export: Vec<PathBuf>,
    },
    /// The national evaluation index.
    Index {
        #[command(subcommand)]
        action: IndexAction,
    },
    /// The working-day calendar's yearly Government decisions.
    Calendar {
        #[command(subcommand)]
        action: CalendarAction,
    },
}

#[derive(Subcommand)]
enum IndexAction {
    /// Recompute the stored monthly rows (provinces and units) from a month to this one.
    Refresh {
        /// The first month, YYYY-MM.
        #[arg(long)]
        since: String,
    },
}

#[derive(Subcommand)]
enum CalendarAction {
    /// Upsert the days of a calendar file (TOML [[day]] entries; see calendar/README.md).
    Import { path: PathBuf },
}

#[derive(Subcommand)]
enum TenantAction {
    /// Provision a province: schema, role, tables and registry rows in one transaction.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "standard")]
        plan: String,
        #[arg(long)]
        admin_email: Option<String>,
    },
    /// List provinces.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Suspend a province: its sites answer 503.
    Suspend { slug: String },
    /// Resume a suspended province.
    Resume { slug: String },
    /// Write one province (its schema's rows and its control-plane rows, consistent) to a file.
    Export {
        slug: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a province from an export file (refused if its slug exists here or the schema
    /// versions differ).
    Import { path: PathBuf },
    /// On Citus: the worker node (host:port) holding the province.
    Place { slug: String },
    /// On Citus: move the province to another worker while it is served.
    Move {
        slug: String,
        /// The worker, host:port.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum TenantsAction {
    /// Make the database match a manifest file or a folder of them (idempotent).
    Apply {
        path: PathBuf,
        /// Print what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create or reset an account; the password is read from standard input.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// citizen, receiver, official, head or admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// A unit the staff member works in (repeatable); none: the province level
        #[arg(long)]
        unit: Vec<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum BillingAction {
    /// Close a period: one invoice per province with a lease in it (repeatable: same result).
    Close {
        #[arg(long)]
        period: String,
    },
}

#[derive(Subcommand)]
enum OperatorAction {
    /// Create or reset an operator account; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => return finish(Err(e.into())),
    };
    commands::init_tracing(&settings.log.format);
    // One TLS crypto provider for the process (ring, as lettre uses), before any TLS use.
    portal::billing::provider::install_crypto_provider();
    finish(run(cli.command, settings))
}

fn run(command: Command, settings: Settings) -> Result<(), Failure> {
    match command {
        Command::Up { demo, tenants } => {
            server_runtime()?.block_on(commands::up::up(settings, demo, &tenants))
        }
        Command::Serve => {
            if settings.auth.jwt_secret.is_none() {
                return Err(Failure::new(
                    2,
                    "configuration error: auth.jwt_secret: not set (PORTAL__AUTH__JWT_SECRET)",
                ));
            }
            server_runtime()?.block_on(commands::up::serve(settings))
        }
        Command::Migrate => commands::migrate::run(&settings),
        Command::Tenant { action } => match action {
            TenantAction::Create {
                slug,
                name,
                plan,
                admin_email,
            } => commands::tenant::create(&settings, &slug, &name, &plan, admin_email.as_deref()),
            TenantAction::List { json } => commands::tenant::list(&settings, json),
            TenantAction::Suspend { slug } => {
                commands::tenant::set_status(&settings, &slug, TenantStatus::Suspended)
            }
            TenantAction::Resume { slug } => {
                commands::tenant::set_status(&settings, &slug, TenantStatus::Active)
            }
            TenantAction::Export { slug, out } => commands::tenant::export(&settings, &slug, &out),
            TenantAction::Import { path } => commands::tenant::import(&settings, &path),
            TenantAction::Place { slug } => commands::tenant::place(&settings, &slug),
            TenantAction::Move { slug, to } => commands::tenant::move_to(&settings, &slug, &to),
        },
        Command::Tenants {
            action: TenantsAction::Apply { path, dry_run },
        } => commands::tenant::apply(&settings, &path, dry_run),
        Command::User {
            action:
                UserAction::Create {
                    tenant,
                    email,
                    role,
                    name,
                    unit,
                    password_stdin: _,
                },
        } => {
            let pw = commands::operator::read_password_stdin()?;
            commands::user::create(
                &settings,
                &tenant,
                &email,
                &role,
                name.as_deref(),
                &unit,
                &pw,
            )
        }
        Command::Billing {
            action: BillingAction::Close { period },
        } => commands::billing::close_period(&settings, &period),
        Command::Operator {
            action:
                OperatorAction::Create {
                    email,
                    role,
                    name,
                    password_stdin: _,
                },
        } => {
            let pw = commands::operator::read_password_stdin()?;
            commands::operator::create(&settings, &email, &role, name.as_deref(), &pw)
        }
        Command::Calendar {
            action: CalendarAction::Import { path },
        } => commands::calendar::import(&settings, &path),
        Command::Reorganise {
            plan,
            dry_run,
            on_export,
        } => commands::reorg::run(&settings, &plan, dry_run, &on_export),
        Command::Index {
            action: IndexAction::Refresh { since },
        } => commands::index::refresh(&settings, &since),
    }
}

/// actix-web's runtime, which also answers SIGTERM/SIGINT with a graceful stop.
fn server_runtime() -> Result<actix_web::rt::SystemRunner, Failure> {
    Ok(actix_web::rt::System::new())
}
