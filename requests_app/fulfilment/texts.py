"""What the requester reads about their package (status page, package summary, e-mails), in the
languages the product speaks (en, es, pt-BR). Kept here rather than in the core's catalogues so
this app ships and merges on its own; English prevails (company policy, section O)."""
from __future__ import annotations

TEXTS = {
    "en": {
        "title": "Your personal data",
        "intro": "This package holds a copy of the personal data we hold about you, system by system, as "
                 "JSON (exact structure) and CSV (opens in a spreadsheet). manifest.json lists every file with "
                 "its SHA-256 fingerprint.",
        "portable": "The files are in structured, commonly used, machine-readable formats that you may pass on "
                    "to another organisation.",
        "system": "System", "categories": "Categories", "files": "Files", "records": "records",
        "processor": "held for us by",
        "ready": "Your data is ready to download until {date}.",
        "code_intro": "To protect your data we first send a one-time code to the e-mail address of your request.",
        "send_code": "Send me a code",
        "enter_code": "Code from the e-mail",
        "check_code": "Download my data",
        "download": "Download my data (ZIP)",
        "downloaded": "Downloaded {n} time(s).",
        "expired": "The download of your data ended on {date} and the file was deleted. Your letter and the list "
                   "of files below remain. If you need your data again, please make a new request.",
        "manifest": "Files in the package (SHA-256)",
        "code_sent": "We have sent a code to your e-mail address. It works for {minutes} minutes.",
        "code_wrong": "This code is not right, or it has expired. Ask for a new one.",
        "too_many": "Too many attempts. Please try again in an hour.",
        "heading": "Your data",
        "cat_identifiers": "Identifiers (name, postal and e-mail address, account name, IP address)",
        "cat_customer_records": "Customer records (Cal. Civ. Code §1798.80(e)), such as contact information",
        "cat_commercial": "Commercial information (transactions, purchase history)",
        "cat_internet_activity": "Internet or network activity (browsing, interactions with the platform)",
        "cat_geolocation": "Geolocation data (approximate location)",
        "cat_audio_visual": "Audio, electronic, visual and similar information (support records)",
        "cat_inferences": "Inferences (preferences and characteristics)",
        "cat_sensitive": "Sensitive personal information (account log-in)",
        "result_erase": "{system}: {n} record(s) erased",
        "result_correct": "{system}: {n} record(s) corrected",
        "result_suppress": "{system}: {n} record(s) suppressed",
        "result_collect": "{system}: data collected",
        "result_done": "{system}: done",
        "result_none": "{system}: none found",
        "result_na": "{system}: not applicable ({reason})",
        "result_not_done": "{system}: not done ({reason})",
        "kept": "{system}: {reason} ({basis})",
        "basis_legal_hold": "legal hold",
        "basis_retention_duty": "a legal duty to keep it",
        "letter_heading": "Your data package",
        "letter_text": "We gathered your personal data from these systems: {systems}. You can download it as one "
                       "ZIP file from your status page until {date}, after entering a one-time code that we send "
                       "to your e-mail address; we never send your data itself by e-mail. The ZIP file's SHA-256 "
                       "fingerprint lets you check that it is the file we issued:",
        "code_valid": "It works once, for {minutes} minutes. If you did not ask for it, ignore this e-mail: "
                      "nobody can download your data without it.",
    },
    "es": {
        "title": "Sus datos personales",
        "intro": "Este paquete contiene una copia de los datos personales que tenemos sobre usted, sistema por "
                 "sistema, en JSON (estructura exacta) y CSV (se abre en una hoja de cálculo). manifest.json "
                 "enumera cada archivo con su huella SHA-256.",
        "portable": "Los archivos están en formatos estructurados, de uso común y lectura mecánica, que puede "
                    "transmitir a otra organización.",
        "system": "Sistema", "categories": "Categorías", "files": "Archivos", "records": "registros",
        "processor": "tratados por cuenta nuestra por",
        "ready": "Puede descargar sus datos hasta el {date}.",
        "code_intro": "Para proteger sus datos, primero enviamos un código de un solo uso a la dirección de "
                      "correo de su solicitud.",
        "send_code": "Enviarme un código",
        "enter_code": "Código del correo",
        "check_code": "Descargar mis datos",
        "download": "Descargar mis datos (ZIP)",
        "downloaded": "Descargado {n} vez/veces.",
        "expired": "La descarga de sus datos terminó el {date} y el archivo se eliminó. Su carta y la lista de "
                   "archivos siguen disponibles. Si necesita sus datos de nuevo, haga una nueva solicitud.",
        "manifest": "Archivos del paquete (SHA-256)",
        "code_sent": "Le hemos enviado un código por correo. Es válido durante {minutes} minutos.",
        "code_wrong": "El código no es correcto o ha caducado. Pida uno nuevo.",
        "too_many": "Demasiados intentos. Inténtelo de nuevo dentro de una hora.",
        "heading": "Sus datos",
        "cat_identifiers": "Identificadores (nombre, dirección postal y de correo electrónico, nombre de cuenta, dirección IP)",
        "cat_customer_records": "Registros de clientes (Cal. Civ. Code §1798.80(e)), como datos de contacto",
        "cat_commercial": "Información comercial (transacciones, historial de compras)",
        "cat_internet_activity": "Actividad en internet o en la red (navegación, interacciones con la plataforma)",
        "cat_geolocation": "Datos de geolocalización (ubicación aproximada)",
        "cat_audio_visual": "Información sonora, electrónica, visual y similar (registros de soporte)",
        "cat_inferences": "Inferencias (preferencias y características)",
        "cat_sensitive": "Información personal sensible (inicio de sesión de la cuenta)",
        "result_erase": "{system}: {n} registro(s) suprimido(s)",
        "result_correct": "{system}: {n} registro(s) rectificado(s)",
        "result_suppress": "{system}: {n} registro(s) excluido(s) del tratamiento",
        "result_collect": "{system}: datos reunidos",
        "result_done": "{system}: hecho",
        "result_none": "{system}: no se encontraron datos",
        "result_na": "{system}: no aplica ({reason})",
        "result_not_done": "{system}: no realizado ({reason})",
        "kept": "{system}: {reason} ({basis})",
        "basis_legal_hold": "conservación por orden legal",
        "basis_retention_duty": "una obligación legal de conservarlos",
        "letter_heading": "Su paquete de datos",
        "letter_text": "Reunimos sus datos personales de estos sistemas: {systems}. Puede descargarlos en un solo "
                       "archivo ZIP desde su página de estado hasta el {date}, tras introducir un código de un solo "
                       "uso que enviamos a su correo; nunca enviamos sus datos por correo. La huella SHA-256 del "
                       "archivo ZIP le permite comprobar que es el archivo que emitimos:",
        "code_valid": "Sirve una sola vez, durante {minutes} minutos. Si no lo pidió, ignore este correo: "
                      "nadie puede descargar sus datos sin él.",
    },
    "pt-br": {
        "title": "Seus dados pessoais",
        "intro": "Este pacote contém uma cópia dos dados pessoais que mantemos sobre você, sistema por sistema, "
                 "em JSON (estrutura exata) e CSV (abre em uma planilha). manifest.json lista cada arquivo com "
                 "sua impressão digital SHA-256.",
        "portable": "Os arquivos estão em formatos estruturados, de uso comum e legíveis por máquina, que você "
                    "pode transmitir a outra organização.",
        "system": "Sistema", "categories": "Categorias", "files": "Arquivos", "records": "registros",
        "processor": "tratados em nosso nome por",
        "ready": "Você pode baixar seus dados até {date}.",
        "code_intro": "Para proteger seus dados, primeiro enviamos um código de uso único ao e-mail da sua "
                      "solicitação.",
        "send_code": "Enviar-me um código",
        "enter_code": "Código do e-mail",
        "check_code": "Baixar meus dados",
        "download": "Baixar meus dados (ZIP)",
        "downloaded": "Baixado {n} vez(es).",
        "expired": "O download dos seus dados terminou em {date} e o arquivo foi excluído. Sua carta e a lista "
                   "de arquivos continuam disponíveis. Se precisar dos dados novamente, faça uma nova solicitação.",
        "manifest": "Arquivos do pacote (SHA-256)",
        "code_sent": "Enviamos um código para o seu e-mail. Ele vale por {minutes} minutos.",
        "code_wrong": "O código não está correto ou expirou. Peça um novo.",
        "too_many": "Tentativas demais. Tente novamente em uma hora.",
        "heading": "Seus dados",
        "cat_identifiers": "Identificadores (nome, endereço postal e de e-mail, nome da conta, endereço IP)",
        "cat_customer_records": "Registros de clientes (Cal. Civ. Code §1798.80(e)), como dados de contato",
        "cat_commercial": "Informações comerciais (transações, histórico de compras)",
        "cat_internet_activity": "Atividade na internet ou na rede (navegação, interações com a plataforma)",
        "cat_geolocation": "Dados de geolocalização (localização aproximada)",
        "cat_audio_visual": "Informações sonoras, eletrônicas, visuais e semelhantes (registros de atendimento)",
        "cat_inferences": "Inferências (preferências e características)",
        "cat_sensitive": "Informações pessoais sensíveis (login da conta)",
        "result_erase": "{system}: {n} registro(s) excluído(s)",
        "result_correct": "{system}: {n} registro(s) corrigido(s)",
        "result_suppress": "{system}: {n} registro(s) excluído(s) do tratamento",
        "result_collect": "{system}: dados reunidos",
        "result_done": "{system}: feito",
        "result_none": "{system}: nenhum dado encontrado",
        "result_na": "{system}: não aplicável ({reason})",
        "result_not_done": "{system}: não realizado ({reason})",
        "kept": "{system}: {reason} ({basis})",
        "basis_legal_hold": "retenção por ordem legal",
        "basis_retention_duty": "um dever legal de conservá-los",
        "letter_heading": "Seu pacote de dados",
        "letter_text": "Reunimos seus dados pessoais destes sistemas: {systems}. Você pode baixá-los em um único "
                       "arquivo ZIP na sua página de status até {date}, depois de informar um código de uso único "
                       "que enviamos ao seu e-mail; nunca enviamos seus dados por e-mail. A impressão digital "
                       "SHA-256 do arquivo ZIP permite verificar que é o arquivo que emitimos:",
        "code_valid": "Ele vale uma única vez, por {minutes} minutos. Se você não o pediu, ignore este e-mail: "
                      "ninguém pode baixar seus dados sem ele.",
    },
}


def for_language(language: str) -> dict:
    code = (language or "en").lower()
    return TEXTS.get(code) or TEXTS.get(code.split("-")[0]) or TEXTS["en"]
