"""Is a request body acceptable, and if not, what exactly is wrong: JSON Schemas, tweet
weighing and the one JSON body reader."""
