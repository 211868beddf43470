/**
 * Who a request's caller is, as the pathway's timeline names them, and which care teams they may
 * see and act for: all of them, or those of their key or session. Every route and the pathway
 * service use these, so a care team is in scope or out of it in one place.
 */
import type { Actor } from '../clinical/events';
import type { Principal } from './auth';

/** What a caller may see: all care teams, or only some. */
export interface Scope {
  careTeams?: readonly string[];
}

export const actorOf = (p: Principal): Actor => ({ id: p.id, role: p.role });

export const scopeOf = (p: Principal): Scope => (p.careTeams ? { careTeams: p.careTeams } : {});

export const inScope = (scope: Scope, careTeam: string): boolean => !scope.careTeams || scope.careTeams.includes(careTeam);
