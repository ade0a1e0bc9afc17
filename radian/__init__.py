"""RADIAN value titles: eligibility, 036 registration, 037-051 circulation, holder tracking and the endorsement watch
for titles we must pay. Code arrives with the RADIAN issue.
"""
