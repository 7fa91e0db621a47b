"""What every process of the self-pay assistant reads, whatever room it
lives in: its settings (selfpay.settings) and the approved scripts that
are not Rasa responses (selfpay.scripts).  It imports nothing from
billing, bot, connectors or desk."""
