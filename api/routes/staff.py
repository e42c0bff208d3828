"""Staff credentials (admin): the staff list, named tokens, revocation of everything."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import CredentialsDep, CurrentActor
from api.schemas import (
    RevocationCreate,
    RevocationDone,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenPublic,
)

router = APIRouter(prefix="/api/v1", tags=["staff"])


@router.post("/actors/{actor_id}/tokens", status_code=status.HTTP_201_CREATED,
             response_model=TokenCreated)
def create_token(actor_id: UUID, body: TokenCreate, actor: CurrentActor,
                 credentials: CredentialsDep) -> TokenCreated:
    """Issues a named bearer token for a staff member; the secret is shown once, only its
    digest is kept."""
    token_id, token = credentials.issue_token(actor, actor_id, body.name, body.expires_at)
    return TokenCreated(id=str(token_id), token=token)


@router.get("/actors/{actor_id}/tokens", response_model=TokenList)
def list_tokens(actor_id: UUID, actor: CurrentActor, credentials: CredentialsDep) -> TokenList:
    """A staff member's tokens: name, issue and expiry times and status, never the
    secret."""
    return TokenList(items=[
        TokenPublic(id=t.id, name=t.name, issued_at=t.issued_at, expires_at=t.expires_at,
                    status=t.status)  # type: ignore[arg-type]
        for t in credentials.tokens(actor, actor_id)
    ], next_cursor=None)


@router.delete("/actors/{actor_id}/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_token(actor_id: UUID, token_id: UUID, actor: CurrentActor,
                   credentials: CredentialsDep) -> Response:
    """Withdraws one token; the staff member's other tokens keep working."""
    credentials.withdraw_token(actor, actor_id, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/actors/{actor_id}/revocation", response_model=RevocationDone)
def revoke(actor_id: UUID, actor: CurrentActor, credentials: CredentialsDep,
           body: RevocationCreate | None = None) -> RevocationDone:
    """Revokes every access of a staff member (tokens and sign-in) until an admin acts."""
    done = credentials.revoke(actor, actor_id, body.reason if body else "")
    return RevocationDone(id=str(actor_id), revoked=True, already_revoked=not done)
