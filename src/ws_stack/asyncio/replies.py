"""Which subscriptions the venue acknowledged or refused, per connection and socket.

Acks and venue errors arrive as messages of the connection's handler, which several
connections may share (a :class:`~ws_stack.asyncio.group.ConnectionGroup`). One
:class:`ReplyRouter` per handler hands each reply to the connection whose pending request
it answers; that connection's :class:`Replies` records the outcome.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Container

from ws_stack.handler import MessageHandler
from ws_stack.messages import SubscriptionAck, VenueError, WebSocketMessageType
from ws_stack.metrics import ConnectionErrorReason, Metrics
from ws_stack.protocol import Request, Subscription

__all__ = ["Replies", "ReplyRouter", "router"]

logger = logging.getLogger(__name__)

Reply = SubscriptionAck | VenueError
#: ``VenueProtocol.answered``: the subscriptions of a request that a reply answers.
Answered = Callable[[Request, Reply], tuple[Subscription, ...]]


class Replies:
    """The requests of one connection awaiting an answer, and the answers, per socket."""

    def __init__(
        self,
        name: str,
        answered: Answered,
        subscriptions: Container[Subscription],
        metrics: Metrics,
    ) -> None:
        self.name = name
        self._answered = answered
        #: What the connection carries now (an ack of a dropped one is not kept).
        self._subscriptions = subscriptions
        self._metrics = metrics
        self.pending: dict[Subscription, Request] = {}
        #: Acknowledged on the current socket.
        self.active: set[Subscription] = set()
        #: Refused on the current socket, with the venue's answer.
        self.refused: dict[Subscription, VenueError] = {}

    def new_socket(self) -> None:
        """Nothing is pending, acknowledged or refused on a new socket."""
        self.pending.clear()
        self.active.clear()
        self.refused.clear()

    def expect(self, request: Request) -> None:
        """``request`` is being sent: its subscriptions await an answer."""
        if not request.unsubscribe:
            for sub in request.subscriptions:
                self.pending[sub] = request

    def forget(self, sub: Subscription) -> None:
        """``sub`` was dropped: no answer about it matters any more."""
        self.active.discard(sub)
        self.pending.pop(sub, None)
        self.refused.pop(sub, None)

    def claim(self, reply: Reply) -> bool:
        """Take ``reply`` if it answers one of the pending requests."""
        for request in dict.fromkeys(self.pending.values()):
            answered = self._answered(request, reply)
            if not answered:
                continue
            for sub in answered:
                if self.pending.get(sub) is request:
                    del self.pending[sub]
                if isinstance(reply, VenueError):
                    self.refused[sub] = reply
                elif sub in self._subscriptions:
                    self.active.add(sub)
            if isinstance(reply, VenueError):
                self._metrics.count_error(ConnectionErrorReason.VENUE_ERROR)
                logger.warning(
                    "%s: venue refused %.300s: %.300s",
                    self.name,
                    ", ".join(map(str, answered)),
                    reply.message,
                )
            return True
        return False


class ReplyRouter:
    """Hands the acks and venue errors of one handler to the connections that asked.

    Registered on a handler once, however many connections share it; a connection joins
    while it runs and leaves on close, so nothing of a closed connection stays hooked.
    """

    def __init__(self, handler: MessageHandler) -> None:
        self.members: list[Replies] = []
        handler.on(WebSocketMessageType.SUBSCRIPTION, self.route)
        handler.on(WebSocketMessageType.ERROR, self.route)

    def join(self, replies: Replies) -> None:
        self.members.append(replies)

    def leave(self, replies: Replies) -> None:
        if replies in self.members:
            self.members.remove(replies)

    def route(self, reply: Reply) -> None:
        for replies in self.members:
            if replies.claim(reply):
                return
        if isinstance(reply, VenueError):
            # Bounded: the venue's message is frame content, as long as a frame may be.
            logger.warning("venue error that answers no pending request: %.300s", reply)


_routers: weakref.WeakKeyDictionary[MessageHandler, ReplyRouter] = weakref.WeakKeyDictionary()


def router(handler: MessageHandler) -> ReplyRouter:
    """The one router of ``handler``."""
    found = _routers.get(handler)
    if found is None:
        found = _routers[handler] = ReplyRouter(handler)
    return found
