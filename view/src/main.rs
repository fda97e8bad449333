//! `traced-view`: receive OTLP from every service, print each trace as one
//! tree, and optionally serve the web waterfall. See `--help`.

use std::io::IsTerminal as _;

use traced_view::{Command, Config, USAGE, VERSION, Viewer};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_args(&args, std::io::stdout().is_terminal()) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            print!("{VERSION}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(why) => {
            eprintln!("traced-view: {why}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("traced-view: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let viewer = match Viewer::start(config, std::io::stdout()).await {
            Ok(viewer) => viewer,
            Err(e) => {
                eprintln!("traced-view: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        println!("{}", viewer.banner());
        let _ = tokio::signal::ctrl_c().await;
        viewer.shutdown().await;
        std::process::ExitCode::SUCCESS
    })
}
