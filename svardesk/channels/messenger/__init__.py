"""Facebook Messenger: a connected Facebook Page's messages become tickets (the Messenger
Platform webhook), and agents' replies go out through the Graph Send API."""
