"""Reception: mailbox sources (IMAP, Maildir, folder drop), mail parsing, safe unzip, intake that verifies and files
each document or quarantines it with a reason. Code arrives with the Inbox issue.
"""
