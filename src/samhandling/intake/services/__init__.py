"""Domain logic of the door in: identity numbers, deadlines, referrals and decisions."""
