//! The talk's worker: consumes the jobs `tasks` publishes on the RabbitMQ
//! queue `tasks` and does the work, each job in a `process tasks` span that
//! continues the trace of the `POST /tasks` that published it.
//!
//! ```text
//! TASKS_AMQP_URL=amqp://127.0.0.1:5672 cargo run --example tasks_worker
//! ```
//!
//! With `TASKS_WORKER_EXIT_BEFORE_ACK` set, the worker exits (status 3)
//! after working on a first delivery and before acknowledging it, as a
//! crash would: the broker then delivers the job again to the next worker,
//! whose span shows `traced.messaging.redelivered`.

use futures_lite::StreamExt as _;
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use serde::Deserialize;
use traced::messaging::lapin as amqp;
use traced::traced;

const QUEUE: &str = "tasks";

#[derive(Debug, Deserialize)]
struct Job {
    id: i64,
    title: String,
}

/// The work itself.
#[traced(attributes(task.id = job.id))]
async fn work(job: &Job) -> Result<usize, std::io::Error> {
    traced::event!("task done", task.id = job.id);
    Ok(job.title.len())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let telemetry = traced::builder()
        .service_name("worker")
        .fallback_exporter(traced::Exporter::Console)
        .init()?;
    let url = std::env::var("TASKS_AMQP_URL").map_err(|_| "TASKS_AMQP_URL is not set")?;
    let exit_before_ack = std::env::var_os("TASKS_WORKER_EXIT_BEFORE_ACK").is_some();

    let connection =
        lapin::Connection::connect(&url, lapin::ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    channel
        .queue_declare(
            QUEUE.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel.basic_qos(1, BasicQosOptions::default()).await?;
    let mut deliveries = channel
        .basic_consume(
            QUEUE.into(),
            "worker".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    println!("consuming {QUEUE}");

    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery?;
        let crash = exit_before_ack && !delivery.redelivered;
        let done = amqp::process(&delivery, QUEUE, async {
            let job: Job = serde_json::from_slice(&delivery.data)?;
            work(&job).await?;
            if !crash {
                amqp::ack(&delivery).await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .await;
        if let Err(err) = done {
            eprintln!("job failed: {err}");
            amqp::nack(&delivery, false).await?;
        }
        if crash {
            // Export what was recorded, then go without acknowledging.
            drop(telemetry);
            std::process::exit(3);
        }
    }
    Ok(())
}
