//! The five sockets and the tasks that serve them.
//!
//! - heartbeat (REP): echoes;
//! - iopub (PUB): one task publishes everything handlers queue;
//! - control (ROUTER): interrupt, shutdown and kernel_info, answered even while a cell runs;
//! - shell (ROUTER): requests run one at a time on a blocking thread;
//! - stdin (ROUTER): bound so front ends can connect (cells do not read input).
//!
//! SIGINT interrupts the running cell too; the kernel itself never dies from it.

use super::connection::ConnectionInfo;
use super::dispatch::{self, status, Iopub, Kernel};
use super::message::Message;
use super::signing::Signer;
use crate::engine::{Engine, EngineOptions, Interrupter};
use anyhow::{Context, Result};
use serde_json::json;
use std::sync::{Arc, Mutex};
use zeromq::{PubSocket, RepSocket, RouterSocket, Socket, SocketRecv, SocketSend, ZmqMessage};

/// Runs a kernel until a shutdown request arrives.
pub async fn serve(info: ConnectionInfo, options: EngineOptions) -> Result<()> {
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
    let kernel = Arc::new(Mutex::new(Kernel::new(engine)));

    let (iopub, mut iopub_queue) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let iopub_signer = signer.clone();
    tokio::spawn(async move {
        while let Some(message) = iopub_queue.recv().await {
            if let Ok(frames) = ZmqMessage::try_from(message.to_frames(&iopub_signer)) {
                let _ = iopub_socket.send(frames).await;
            }
        }
    });
    tokio::spawn(async move {
        while let Ok(ping) = heartbeat.recv().await {
            let _ = heartbeat.send(ping).await;
        }
    });
    tokio::spawn(watch_sigint(interrupter.clone()));
    let _stdin = stdin;

    let (stop, mut stopped) = tokio::sync::mpsc::unbounded_channel::<()>();
    tokio::spawn(serve_control(control, signer.clone(), iopub.clone(), interrupter, stop));
    tokio::spawn(serve_shell(shell, signer, iopub, kernel));
    stopped.recv().await;
    // Let the reply and the last status leave before the process ends.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    Ok(())
}

async fn serve_shell(mut shell: RouterSocket, signer: Signer, iopub: Iopub, kernel: Arc<Mutex<Kernel>>) {
    loop {
        let Ok(frames) = shell.recv().await else { continue };
        let request = match Message::from_frames(frames.into_vec(), &signer) {
            Ok(request) => request,
            Err(error) => {
                eprintln!("d2l-kernel: dropped a shell message: {error:#}");
                continue;
            }
        };
        status(&iopub, &request, "busy");
        let (kernel, iopub_for_handler, request_for_handler) = (kernel.clone(), iopub.clone(), request.clone());
        let reply = tokio::task::spawn_blocking(move || {
            let mut kernel = kernel.lock().unwrap_or_else(|e| e.into_inner());
            kernel.handle_shell(&request_for_handler, &iopub_for_handler)
        })
        .await
        .unwrap_or_else(|panic| {
            eprintln!("d2l-kernel: a request handler failed: {panic}");
            None
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
    stop: tokio::sync::mpsc::UnboundedSender<()>,
) {
    loop {
        let Ok(frames) = control.recv().await else { continue };
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
                interrupter.interrupt();
                Some(request.reply("interrupt_reply", json!({"status": "ok"})))
            }
            "shutdown_request" => {
                stopping = true;
                interrupter.interrupt();
                let restart = request.content["restart"].as_bool().unwrap_or(false);
                Some(request.reply("shutdown_reply", json!({"status": "ok", "restart": restart})))
            }
            "kernel_info_request" => Some(request.reply("kernel_info_reply", dispatch::kernel_info())),
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

async fn send(socket: &mut RouterSocket, message: &Message, signer: &Signer) {
    match ZmqMessage::try_from(message.to_frames(signer)) {
        Ok(frames) => {
            if let Err(error) = socket.send(frames).await {
                eprintln!("d2l-kernel: could not send {}: {error}", message.msg_type());
            }
        }
        Err(error) => eprintln!("d2l-kernel: could not frame {}: {error}", message.msg_type()),
    }
}

async fn watch_sigint(interrupter: Interrupter) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut sigint) = signal(SignalKind::interrupt()) else {
        eprintln!("d2l-kernel: cannot listen for SIGINT; use interrupt requests");
        return;
    };
    while sigint.recv().await.is_some() {
        interrupter.interrupt();
    }
}

async fn bind<S: Socket>(socket: &mut S, info: &ConnectionInfo, port: u16, name: &str) -> Result<()> {
    let endpoint = info.endpoint(port);
    socket
        .bind(&endpoint)
        .await
        .with_context(|| format!("binding the {name} socket to {endpoint}"))?;
    Ok(())
}
