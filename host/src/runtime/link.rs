//! How a venue task reaches the engine: [`EngineLink`]. In `run` it is [`CoreLink`], which
//! calls the engine inline on the same thread (no task or thread hop on the tick-to-order path);
//! tools and tests use [`ChannelLink`], which hands events out on a channel and takes batches in.

use super::core::EngineCore;
use crate::engine::events::Event;
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::VenueId;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use tokio::sync::{Notify, mpsc};

/// The engine side went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Why a venue task was woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Batches may be waiting for this venue.
    Work,
    /// Reconcile this venue (the engine or an operator asked); `urgent`: now, whatever the
    /// minimum interval (the last reconcile of a run, before its summary).
    Reconcile { urgent: bool },
    /// Stop: disarm, close, return.
    Shutdown,
}

pub trait EngineLink {
    /// One event from the adapter, handled now.
    fn deliver(&mut self, ev: Event) -> Result<(), Closed>;
    /// This venue's next batch, if the engine has one.
    fn next_batch(&mut self, venue: VenueId) -> Option<ActionBatch>;
    /// The posts of this turn are written: work that could wait (journal records) is done now.
    fn settle(&mut self) {}
    /// Resolves when batches for this venue were queued from elsewhere, or on shutdown.
    fn wake(&mut self) -> impl Future<Output = Wake> + '_;
}

/// Wakes one venue task: work queued by another venue's event or by the runtime's own loop, or
/// the stop.
#[derive(Debug, Default)]
pub struct VenueSignal {
    notify: Notify,
    shutdown: Cell<bool>,
    /// 0: none asked, 1: asked, 2: asked urgently.
    reconcile: Cell<u8>,
}

impl VenueSignal {
    pub fn work(&self) {
        self.notify.notify_one();
    }

    pub fn shutdown(&self) {
        self.shutdown.set(true);
        self.notify.notify_one();
    }

    /// Asks the venue task for a reconcile (requests until it starts one are one request).
    pub fn reconcile(&self) {
        self.reconcile.set(self.reconcile.get().max(1));
        self.notify.notify_one();
    }

    /// A reconcile now, whatever the minimum interval.
    pub fn reconcile_now(&self) {
        self.reconcile.set(2);
        self.notify.notify_one();
    }

    async fn wait(&self) -> Wake {
        if !self.shutdown.get() && self.reconcile.get() == 0 {
            self.notify.notified().await;
        }
        if self.shutdown.get() {
            return Wake::Shutdown;
        }
        match self.reconcile.replace(0) {
            0 => Wake::Work,
            n => Wake::Reconcile { urgent: n > 1 },
        }
    }
}

/// The live link: the engine, inline.
pub struct CoreLink {
    pub core: Rc<RefCell<EngineCore>>,
    pub venue: VenueId,
    pub signal: Rc<VenueSignal>,
}

impl EngineLink for CoreLink {
    fn deliver(&mut self, ev: Event) -> Result<(), Closed> {
        match self.core.try_borrow_mut() {
            Ok(mut core) => {
                core.handle(ev, Some(self.venue));
                Ok(())
            }
            Err(_) => {
                tracing::error!("engine re-entered from a venue task: event dropped");
                Err(Closed)
            }
        }
    }

    fn next_batch(&mut self, venue: VenueId) -> Option<ActionBatch> {
        self.core.borrow_mut().next_batch_for(venue)
    }

    fn settle(&mut self) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.settle();
        }
    }

    fn wake(&mut self) -> impl Future<Output = Wake> + '_ {
        self.signal.wait()
    }
}

/// What a tool or test sends to a venue task driven through a [`ChannelLink`].
#[derive(Debug)]
pub enum VenueCommand {
    /// Sign and send (after the pre-send HardStop guard).
    Send(ActionBatch),
    /// Clear the dead-man switch and close (orderly shutdown).
    Shutdown,
}

/// A link without an engine: events go out on a channel, batches come in as commands.
pub struct ChannelLink {
    events: mpsc::UnboundedSender<Event>,
    commands: mpsc::UnboundedReceiver<VenueCommand>,
    queued: VecDeque<ActionBatch>,
}

impl ChannelLink {
    pub fn new(
        events: mpsc::UnboundedSender<Event>,
        commands: mpsc::UnboundedReceiver<VenueCommand>,
    ) -> ChannelLink {
        ChannelLink {
            events,
            commands,
            queued: VecDeque::new(),
        }
    }
}

impl EngineLink for ChannelLink {
    fn deliver(&mut self, ev: Event) -> Result<(), Closed> {
        self.events.send(ev).map_err(|_| Closed)
    }

    fn next_batch(&mut self, _venue: VenueId) -> Option<ActionBatch> {
        self.queued.pop_front()
    }

    async fn wake(&mut self) -> Wake {
        match self.commands.recv().await {
            Some(VenueCommand::Send(b)) => {
                self.queued.push_back(b);
                Wake::Work
            }
            None | Some(VenueCommand::Shutdown) => Wake::Shutdown,
        }
    }
}
