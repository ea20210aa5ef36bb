//! The five sockets and the tasks that serve them.
//!
//! - heartbeat (REP): echoes;
//! - iopub (PUB): one task publishes everything handlers queue;
//! - control (ROUTER): interrupt, shutdown and kernel_info, answered even while a cell runs;
//! - shell (ROUTER): requests run one at a time on a blocking thread;
//! - stdin (ROUTER): `input_request` for a cell that reads stdin, when the front end allows it.
//!
//! SIGINT interrupts the running cell too; the kernel itself never dies from it.
//!
//! Supervision: a kernel whose shell or heartbeat task has died still looks alive to nobody's
//! benefit, so the process exits (status 70) when any task panics (zeromq's own included, through
//! the panic hook) or one of our socket tasks ends; the front end then restarts it cleanly.

use super::connection::ConnectionInfo;
use super::dispatch::{self, status, Iopub, Kernel};
use super::message::Message;
use super::signing::Signer;
use crate::engine::{Engine, EngineOptions, Interrupter};
use anyhow::{Context, Result};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use zeromq::{PubSocket, RepSocket, RouterSocket, Socket, SocketRecv, SocketSend, ZmqMessage};

/// Runs a kernel until a shutdown request arrives.
pub async fn serve(info: ConnectionInfo, options: EngineOptions) -> Result<()> {
    exit_on_panic();
    if info.key.is_empty() {
        eprintln!(
            "d2l-kernel: warning: the connection file has an empty key, so messages are not signed \
             and any local process that reaches these ports can run code as you; let Jupyter \
             write the connection file (it sets a key)"
        );
    }
    let signer = Signer::new(&info.key);
    let mut shell = RouterSocket::new();
    let mut control = RouterSocket::new();
    let mut stdin = RouterSocket::new();
    let mut iopub_socket = PubSocket::new();
    let mut heartbeat = RepSocket::new();
    bind(&mut shell, &info, info.shell_port, "shell").await?;
    bind(&mut control, &info, info.control_port, "control").await?;
    bind(&mut stdin, &info, info.stdin_port, "stdin").await?;
    bind(&mut iopub_socket, &info, info.iopub_port, "iopub").await?;
    bind(&mut heartbeat, &info, info.hb_port, "heartbeat").await?;

    // Start evcxr and the d2l prelude now, so the first cell waits as little as possible.
    let engine = Engine::new(options)?;
    let interrupter = engine.interrupter();
    let interrupter_for_signal = interrupter.clone();
    let (stdin_requests, stdin_queue) = tokio::sync::mpsc::unbounded_channel();
    let interrupts = Arc::new(AtomicU64::new(0));
    let asker = dispatch::Stdin {
        requests: stdin_requests,
        interrupts: interrupts.clone(),
    };
    let kernel = Arc::new(Mutex::new(Kernel::new(engine, Some(asker))));

    let (iopub, mut iopub_queue) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let iopub_signer = signer.clone();
    let (control_signer, control_iopub) = (signer.clone(), iopub.clone());
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(async move {
        while let Some(message) = iopub_queue.recv().await {
            if let Ok(frames) = ZmqMessage::try_from(message.to_frames(&iopub_signer)) {
                let _ = iopub_socket.send(frames).await;
            }
        }
        "iopub"
    });
    tasks.spawn(async move {
        // A bad peer costs one error; a socket that only fails is dead.
        let mut failures = 0;
        while failures < 100 {
            match heartbeat.recv().await {
                Ok(ping) => {
                    failures = 0;
                    let _ = heartbeat.send(ping).await;
                }
                Err(error) => {
                    failures += 1;
                    eprintln!("d2l-kernel: heartbeat: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
        "heartbeat"
    });
    let interrupts_for_signal = interrupts.clone();
    tasks.spawn(async move {
        watch_sigint(interrupter_for_signal, interrupts_for_signal).await;
        std::future::pending::<&str>().await
    });
    let stdin_signer = signer.clone();
    tasks.spawn(async move {
        serve_stdin(stdin, stdin_signer, stdin_queue).await;
        "stdin"
    });

    let (stop, mut stopped) = tokio::sync::mpsc::unbounded_channel::<()>();
    tasks.spawn(async move {
        serve_control(
            control,
            control_signer,
            control_iopub,
            interrupter,
            interrupts,
            stop,
        )
        .await;
        // A shutdown request: stay until the process ends.
        std::future::pending::<&str>().await
    });
    tasks.spawn(async move {
        serve_shell(shell, signer, iopub, kernel).await;
        "shell"
    });
    tokio::select! {
        _ = stopped.recv() => {}
        ended = tasks.join_next() => {
            match ended {
                Some(Ok(name)) => eprintln!("d2l-kernel: the {name} task stopped; exiting so that the front end restarts the kernel"),
                Some(Err(error)) => eprintln!("d2l-kernel: a socket task failed ({error}); exiting so that the front end restarts the kernel"),
                None => {}
            }
            std::process::exit(EXIT_TASK_DIED);
        }
    }
    // Let the reply and the last status leave before the process ends.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    Ok(())
}

/// The exit status when a socket task died.
pub const EXIT_TASK_DIED: i32 = 70;

/// Any panic in this process ends it: a socket task that panicked (zeromq has `todo!()` and
/// `assert!` paths for odd peer traffic) would otherwise leave a kernel that looks alive.
/// Cells run in another process (evcxr's), so their panics are not seen here.
fn exit_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        eprintln!("d2l-kernel: exiting after a panic, so that the front end restarts the kernel");
        std::process::exit(EXIT_TASK_DIED);
    }));
}

async fn serve_shell(
    mut shell: RouterSocket,
    signer: Signer,
    iopub: Iopub,
    kernel: Arc<Mutex<Kernel>>,
) {
    loop {
        let frames = match shell.recv().await {
            Ok(frames) => frames,
            Err(error) => {
                eprintln!("d2l-kernel: shell: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let request = match Message::from_frames(frames.into_vec(), &signer) {
            Ok(request) => request,
            Err(error) => {
                eprintln!("d2l-kernel: dropped a shell message: {error:#}");
                continue;
            }
        };
        status(&iopub, &request, "busy");
        let (kernel, iopub_for_handler, request_for_handler) =
            (kernel.clone(), iopub.clone(), request.clone());
        let reply = tokio::task::spawn_blocking(move || {
            let mut kernel = kernel.lock().unwrap_or_else(|e| e.into_inner());
            kernel.handle_shell(&request_for_handler, &iopub_for_handler)
        })
        .await
        .unwrap_or_else(|panic| {
            // The panic hook has ended the process already; this is for completeness.
            eprintln!("d2l-kernel: a request handler failed: {panic}");
            std::process::exit(EXIT_TASK_DIED)
        });
        if let Some(reply) = reply {
            send(&mut shell, &reply, &signer).await;
        }
        status(&iopub, &request, "idle");
    }
}

async fn serve_control(
    mut control: RouterSocket,
    signer: Signer,
    iopub: Iopub,
    interrupter: Interrupter,
    interrupts: Arc<AtomicU64>,
    stop: tokio::sync::mpsc::UnboundedSender<()>,
) {
    loop {
        let frames = match control.recv().await {
            Ok(frames) => frames,
            Err(error) => {
                eprintln!("d2l-kernel: control: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let request = match Message::from_frames(frames.into_vec(), &signer) {
            Ok(request) => request,
            Err(error) => {
                eprintln!("d2l-kernel: dropped a control message: {error:#}");
                continue;
            }
        };
        status(&iopub, &request, "busy");
        let mut stopping = false;
        let reply = match request.msg_type() {
            "interrupt_request" => {
                if interrupter.interrupt() {
                    interrupts.fetch_add(1, Ordering::SeqCst);
                }
                Some(request.reply("interrupt_reply", json!({"status": "ok"})))
            }
            "shutdown_request" => {
                stopping = true;
                interrupter.interrupt();
                let restart = request.content["restart"].as_bool().unwrap_or(false);
                Some(request.reply(
                    "shutdown_reply",
                    json!({"status": "ok", "restart": restart}),
                ))
            }
            "kernel_info_request" => {
                Some(request.reply("kernel_info_reply", dispatch::kernel_info()))
            }
            _ => None,
        };
        if let Some(reply) = reply {
            send(&mut control, &reply, &signer).await;
        }
        status(&iopub, &request, "idle");
        if stopping {
            let _ = stop.send(());
            return;
        }
    }
}

/// Sends the input requests of cells and hands each `input_reply`'s value to its asker.
async fn serve_stdin(mut stdin: RouterSocket, signer: Signer, mut requests: StdinQueue) {
    let mut pending: Option<std::sync::mpsc::Sender<Option<String>>> = None;
    loop {
        tokio::select! {
            request = requests.recv() => {
                let Some((request, answer)) = request else { return };
                send(&mut stdin, &request, &signer).await;
                // A newer request replaces an abandoned one.
                pending = Some(answer);
            }
            frames = stdin.recv() => match frames {
                Ok(frames) => match Message::from_frames(frames.into_vec(), &signer) {
                    Ok(reply) if reply.msg_type() == "input_reply" => {
                        if let Some(answer) = pending.take() {
                            let _ = answer.send(reply.content["value"].as_str().map(str::to_owned));
                        }
                    }
                    Ok(other) => eprintln!("d2l-kernel: ignored a {} on the stdin channel", other.msg_type()),
                    Err(error) => eprintln!("d2l-kernel: dropped a stdin message: {error:#}"),
                },
                Err(error) => {
                    eprintln!("d2l-kernel: stdin: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
        }
    }
}

type StdinQueue =
    tokio::sync::mpsc::UnboundedReceiver<(Message, std::sync::mpsc::Sender<Option<String>>)>;

async fn send(socket: &mut RouterSocket, message: &Message, signer: &Signer) {
    match ZmqMessage::try_from(message.to_frames(signer)) {
        Ok(frames) => {
            if let Err(error) = socket.send(frames).await {
                eprintln!("d2l-kernel: could not send {}: {error}", message.msg_type());
            }
        }
        Err(error) => eprintln!(
            "d2l-kernel: could not frame {}: {error}",
            message.msg_type()
        ),
    }
}

async fn watch_sigint(interrupter: Interrupter, interrupts: Arc<AtomicU64>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut sigint) = signal(SignalKind::interrupt()) else {
        eprintln!("d2l-kernel: cannot listen for SIGINT; use interrupt requests");
        return;
    };
    while sigint.recv().await.is_some() {
        if interrupter.interrupt() {
            interrupts.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn bind<S: Socket>(
    socket: &mut S,
    info: &ConnectionInfo,
    port: u16,
    name: &str,
) -> Result<()> {
    let endpoint = info.endpoint(port);
    socket
        .bind(&endpoint)
        .await
        .with_context(|| format!("binding the {name} socket to {endpoint}"))?;
    Ok(())
}
